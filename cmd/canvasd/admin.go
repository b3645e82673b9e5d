package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/canvasd/canvasd/store"
	"github.com/rs/zerolog"
)

// serveAdmin serves pprof and /metrics (the only place for them with
// --metrics-admin-only) on a private listener.
func serveAdmin(addr string, log zerolog.Logger, metrics http.Handler) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info().Str("addr", addr).Msg("pprof admin listener")
	if err := hs.ListenAndServe(); err != nil {
		log.Error().Err(err).Msg("admin listener")
	}
}

func openStoreFlags(fs *flag.FlagSet) *string {
	return fs.String("data", "./data", "data directory (the server must be stopped)")
}

func userAdd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	data := openStoreFlags(fs)
	email := fs.String("email", "", "email (login)")
	name := fs.String("name", "", "display name")
	password := fs.String("password", "", "password (at least 4 characters)")
	admin := fs.Bool("admin", false, "make the user an admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envFlags(fs); err != nil {
		return err
	}
	if *email == "" || *name == "" || len(*password) < 4 {
		return errors.New("user add needs --email, --name and a --password of at least 4 characters")
	}
	st, err := store.Open(*data, store.Options{})
	if err != nil {
		return fmt.Errorf("%w (is the server running on this data directory? use the API instead)", err)
	}
	defer st.Close()
	hash, err := store.HashPassword(*password)
	if err != nil {
		return err
	}
	u := &store.User{Email: *email, Name: *name, Admin: *admin, Approved: true, PasswordHash: hash}
	if err := st.Write(func(tx *store.Tx) error { cp := *u; err := tx.CreateUser(&cp); *u = cp; return err }); err != nil {
		return err
	}
	fmt.Fprintf(out, "created user %d (%s)\n", u.ID, u.Email)
	return nil
}

func tokenCreate(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	data := openStoreFlags(fs)
	email := fs.String("email", "", "the token's user")
	desc := fs.String("description", "cli", "token description")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envFlags(fs); err != nil {
		return err
	}
	st, err := store.Open(*data, store.Options{})
	if err != nil {
		return fmt.Errorf("%w (is the server running on this data directory? use the API instead)", err)
	}
	defer st.Close()
	var plain string
	err = st.Write(func(tx *store.Tx) error {
		u, err := tx.UserByEmail(*email)
		if err != nil {
			return fmt.Errorf("no user with email %q", *email)
		}
		plain, _, err = tx.CreateToken(u.ID, *desc, "", 0)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, plain)
	return nil
}

// backupCmd asks a running server for an online backup.
func backupCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	dst := fs.String("out", "", "archive to write")
	url := fs.String("url", "http://localhost:8080", "the running server's base URL")
	token := fs.String("token", "", "an admin access token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envFlags(fs); err != nil {
		return err
	}
	if *dst == "" || *token == "" {
		return errors.New("backup needs --out FILE and --token (or CANVASD_TOKEN)")
	}
	req, err := http.NewRequest(http.MethodGet, *url+"/admin/backup", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Private-Token", *token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("backup: server answered %s: %s", resp.Status, b)
	}
	tmp := *dst + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, *dst); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (%d bytes)\n", *dst, n)
	return nil
}

func restoreCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "archive written by canvasd backup")
	data := fs.String("data", "", "empty data directory to restore into")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *data == "" {
		return errors.New("restore needs --from FILE and --data DIR")
	}
	f, err := os.Open(*from)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := store.Restore(f, *data); err != nil {
		return err
	}
	fmt.Fprintf(out, "restored %s into %s\n", *from, *data)
	return nil
}
