// Independent check of witness-cosigned checkpoints: Go's golang.org/x/mod/sumdb/note
// opens the note with the log's key (and must ignore the witness lines, as
// signed-note requires), then each witness line is verified here, written
// from C2SP tlog-cosignature with crypto/ed25519 alone.
//
// Reads one JSON request on stdin and prints one JSON result per note.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

type request struct {
	LogKey    string   `json:"log_vkey"`
	Witnesses []string `json:"witness_vkeys"`
	Notes     []string `json:"notes"`
}

type result struct {
	OK       bool             `json:"ok"`
	Error    string           `json:"error,omitempty"`
	Cosigned map[string]int64 `json:"cosigned"`
}

type witness struct {
	name string
	id   uint32
	key  ed25519.PublicKey
}

// parseWitness reads <name>+<hex key ID>+<base64(0x04 || key)> (note.NewVerifier knows only 0x01).
func parseWitness(vkey string) (witness, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return witness{}, fmt.Errorf("malformed vkey")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return witness{}, fmt.Errorf("not an Ed25519 cosignature/v1 key")
	}
	sum := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	if hex.EncodeToString(sum[:4]) != parts[1] {
		return witness{}, fmt.Errorf("key ID mismatch")
	}
	return witness{parts[0], binary.BigEndian.Uint32(sum[:4]), ed25519.PublicKey(raw[1:])}, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		panic(err)
	}
	logVerifier, err := note.NewVerifier(req.LogKey)
	if err != nil {
		panic(err)
	}
	var witnesses []witness
	for _, vkey := range req.Witnesses {
		w, err := parseWitness(vkey)
		if err != nil {
			panic(err)
		}
		witnesses = append(witnesses, w)
	}
	var out []result
	for _, text := range req.Notes {
		r := result{Cosigned: map[string]int64{}}
		n, err := note.Open([]byte(text), note.VerifierList(logVerifier))
		if err != nil {
			r.Error = err.Error()
			out = append(out, r)
			continue
		}
		r.OK = true
		for _, sig := range n.UnverifiedSigs {
			for _, w := range witnesses {
				if sig.Name != w.name || sig.Hash != w.id {
					continue
				}
				raw, err := base64.StdEncoding.DecodeString(sig.Base64)
				if err != nil || len(raw) != 4+8+64 {
					continue
				}
				ts := binary.BigEndian.Uint64(raw[4:12])
				var msg bytes.Buffer
				fmt.Fprintf(&msg, "cosignature/v1\ntime %d\n%s", ts, n.Text)
				if ts <= 1<<63-1 && ed25519.Verify(w.key, msg.Bytes(), raw[12:]) {
					r.Cosigned[w.name] = int64(ts)
				}
			}
		}
		out = append(out, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
