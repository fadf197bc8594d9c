// Independent verifier for the registry's checkpoints and proofs, built on
// Go's golang.org/x/mod/sumdb/note (C2SP signed notes) and sumdb/tlog
// (RFC 6962/9162 Merkle proofs): the tools platforms already trust.
//
// Reads one JSON request on stdin and prints one JSON result per check.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Data  string   `json:"data"` // base64 leaf data
	Proof []string `json:"proof"`
	Root  string   `json:"root"`
}

type consistency struct {
	First      int64    `json:"first"`
	Second     int64    `json:"second"`
	FirstRoot  string   `json:"first_root"`
	SecondRoot string   `json:"second_root"`
	Proof      []string `json:"proof"`
}

type request struct {
	VerifierKey string        `json:"verifier_key"`
	Notes       []string      `json:"notes"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

type result struct {
	Kind   string `json:"kind"`
	N      int    `json:"n"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Origin string `json:"origin,omitempty"`
	Size   int64  `json:"size,omitempty"`
	Root   string `json:"root,omitempty"`
}

func hash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return h, err
	}
	if len(b) != len(h) {
		return h, fmt.Errorf("hash has %d bytes", len(b))
	}
	copy(h[:], b)
	return h, nil
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(list))
	for _, s := range list {
		h, err := hash(s)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var results []result
	verifier, err := note.NewVerifier(req.VerifierKey)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier key:", err)
		os.Exit(2)
	}
	for i, text := range req.Notes {
		r := result{Kind: "note", N: i}
		n, err := note.Open([]byte(text), note.VerifierList(verifier))
		if err != nil {
			r.Error = err.Error()
		} else {
			lines := strings.SplitN(n.Text, "\n", 4)
			if len(lines) < 4 {
				r.Error = "checkpoint body too short"
			} else {
				size, perr := strconv.ParseInt(lines[1], 10, 64)
				if perr != nil {
					r.Error = perr.Error()
				} else {
					r.OK, r.Origin, r.Size, r.Root = true, lines[0], size, lines[2]
				}
			}
		}
		results = append(results, r)
	}
	for i, c := range req.Inclusion {
		r := result{Kind: "inclusion", N: i}
		data, err := base64.StdEncoding.DecodeString(c.Data)
		proof, err2 := hashes(c.Proof)
		root, err3 := hash(c.Root)
		if err != nil || err2 != nil || err3 != nil {
			r.Error = "bad input"
		} else if err := tlog.CheckRecord(tlog.RecordProof(proof), c.Size, root, c.Index, tlog.RecordHash(data)); err != nil {
			r.Error = err.Error()
		} else {
			r.OK = true
		}
		results = append(results, r)
	}
	for i, c := range req.Consistency {
		r := result{Kind: "consistency", N: i}
		proof, err := hashes(c.Proof)
		first, err2 := hash(c.FirstRoot)
		second, err3 := hash(c.SecondRoot)
		if err != nil || err2 != nil || err3 != nil {
			r.Error = "bad input"
		} else if err := tlog.CheckTree(tlog.TreeProof(proof), c.Second, second, c.First, first); err != nil {
			r.Error = err.Error()
		} else {
			r.OK = true
		}
		results = append(results, r)
	}
	json.NewEncoder(os.Stdout).Encode(results)
}
