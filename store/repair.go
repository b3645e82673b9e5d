package store

import (
	"bytes"
	"encoding/json"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// repairEmails makes the email index exact at start-up, inside Open's one
// write transaction: each user's email is stored in its normal form (trimmed,
// lower-cased) and the index holds exactly one entry per user email, naming
// that user. Earlier builds indexed the trimmed form, stored the untrimmed
// one and deleted by the untrimmed one, which left entries pointing at users
// who no longer had that email (email squatting). When two users' emails
// normalise to the same key, the older user keeps it and the other's entry
// is left out (logged; an admin must change one of them).
func (s *Store) repairEmails(tx *bolt.Tx) error {
	users, idx := tx.Bucket(bucketUsers), tx.Bucket(bucketUserEmail)
	want := map[string]uint64{}
	var rewrite []*User
	err := users.ForEach(func(k, v []byte) error {
		u := &User{}
		if err := json.Unmarshal(v, u); err != nil {
			return err
		}
		key := emailKey(u.Email)
		if u.Email != key {
			s.opts.Logf("store repair: user %d email %q stored as %q", u.ID, u.Email, key)
			u.Email = key
			rewrite = append(rewrite, u)
		}
		if key == "" {
			return nil
		}
		if prev, dup := want[key]; dup {
			s.opts.Logf("store repair: users %d and %d share the email %q; it signs in as %d", prev, u.ID, key, prev)
			return nil
		}
		want[key] = u.ID
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range rewrite {
		if err := putJSON(users, itob(u.ID), u); err != nil {
			return err
		}
	}
	var stale [][]byte
	err = idx.ForEach(func(k, v []byte) error {
		if id, ok := want[string(k)]; !ok || len(v) != 8 || btoi(v) != id {
			stale = append(stale, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range stale {
		s.opts.Logf("store repair: email index entry %q removed (it named no user with that email)", k)
		if err := idx.Delete(k); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := idx.Get([]byte(k)); v != nil && btoi(v) == want[k] {
			continue
		}
		s.opts.Logf("store repair: email index entry %q added for user %d", k, want[k])
		if err := idx.Put([]byte(k), itob(want[k])); err != nil {
			return err
		}
	}
	return nil
}

// migrateCredits runs once on a store written before credits belonged to
// users. Each token's old credits stay as that token's cap (so no token can
// spend more than it could before), and each user who had limited tokens
// gets the sum of those credits as their account's credits (so a new token
// or a login no longer starts unlimited).
func (s *Store) migrateCredits(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta.Get(metaUserCredits) != nil {
		return nil
	}
	sums := map[uint64]uint64{}
	ids, toks := tx.Bucket(bucketTokenIDs), tx.Bucket(bucketTokens)
	err := tx.Bucket(bucketCredits).ForEach(func(k, v []byte) error {
		h := ids.Get(k)
		if h == nil || len(v) != 8 {
			return nil
		}
		tk := &Token{}
		if err := getJSON(toks, h, tk); err != nil {
			return nil
		}
		sums[tk.UserID] += btoi(v)
		return nil
	})
	if err != nil {
		return err
	}
	uc := tx.Bucket(bucketUserCredits)
	for uid, n := range sums {
		if uc.Get(itob(uid)) != nil {
			continue
		}
		s.opts.Logf("store migrate: user %d gets %d uncrop credits (the sum of their tokens' credits)", uid, n)
		if err := uc.Put(itob(uid), itob(n)); err != nil {
			return err
		}
	}
	return meta.Put(metaUserCredits, []byte("1"))
}
