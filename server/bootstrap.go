package server

import (
	"github.com/canvasd/canvasd/store"
)

// BootstrapEmail is the first admin's login.
const BootstrapEmail = "admin@localhost"

// Bootstrap creates the first admin user and an access token for it when the
// store has no users yet. It returns the plain token (the given one, or a new
// one) and whether it created anything. On later starts it does nothing and
// returns no secret.
func Bootstrap(st *store.Store, token string) (string, bool, error) {
	var plain string
	created := false
	err := st.Write(func(tx *store.Tx) error {
		users, err := tx.Users()
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.ID != store.GuestUserID {
				plain, created = "", false
				return nil
			}
		}
		u := &store.User{Email: BootstrapEmail, Name: "Admin", Admin: true, Approved: true}
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		plain, _, err = tx.CreateToken(u.ID, "bootstrap", token, 0)
		created = err == nil
		return err
	})
	return plain, created, err
}
