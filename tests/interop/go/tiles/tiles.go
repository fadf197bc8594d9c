// Reads the registry's log as C2SP tlog-tiles over HTTP with Go's golang.org/x/mod/sumdb/tlog:
// the checkpoint is opened with sumdb/note, tiles are fetched through a tlog.TileReader
// (which checks every tile against the checkpoint's tree hash), and inclusion and
// consistency proofs computed from the tiles are checked, with each record read from
// its entry bundle.
//
// Go names tiles with their height (tile/8/L/N, entries as tile/8/data/N); C2SP
// tlog-tiles fixes the height at 8 and leaves it out (tile/L/N, tile/entries/N):
// c2spPath maps one onto the other.
//
// Reads one JSON request on stdin, prints one JSON result.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	URL         string  `json:"url"` // the log's prefix, e.g. http://host/tlog
	VerifierKey string  `json:"verifier_key"`
	Indexes     []int64 `json:"indexes"`
	OldSizes    []int64 `json:"old_sizes"`
}

type result struct {
	Size        int64    `json:"size"`
	Root        string   `json:"root"`
	TreeHash    string   `json:"tree_hash"`
	Inclusion   []string `json:"inclusion"`   // "ok" or the error, per index
	Consistency []string `json:"consistency"` // "ok" or the error, per old size
	Fetched     []string `json:"fetched"`     // the C2SP paths read
}

func c2spPath(t tlog.Tile) string {
	p := t.Path() // tile/8/<L>/<N>[.p/<W>]
	rest := strings.TrimPrefix(p, "tile/8/")
	if strings.HasPrefix(rest, "data/") {
		rest = "entries/" + strings.TrimPrefix(rest, "data/")
	}
	return "tile/" + rest
}

type httpTiles struct {
	base    string
	fetched *[]string
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

func (h httpTiles) Height() int { return 8 }

func (h httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := c2spPath(t)
		*h.fetched = append(*h.fetched, path)
		data, err := get(h.base + "/" + path)
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (h httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// entry reads record index from its entry bundle (uint16 big-endian length-prefixed entries).
func entry(base string, size, index int64) ([]byte, error) {
	t := tlog.Tile{H: 8, L: -1, N: index / 256} // Go's data tile: tile/8/data/N
	if end := (t.N + 1) * 256; end > size {
		t.W = int(size - t.N*256)
	} else {
		t.W = 256
	}
	bundle, err := get(base + "/" + c2spPath(t))
	if err != nil {
		return nil, err
	}
	want := index - t.N*256
	for i := int64(0); len(bundle) >= 2; i++ {
		n := int(binary.BigEndian.Uint16(bundle))
		if len(bundle) < 2+n {
			return nil, fmt.Errorf("truncated entry bundle")
		}
		if i == want {
			return bundle[2 : 2+n], nil
		}
		bundle = bundle[2+n:]
	}
	return nil, fmt.Errorf("entry %d not in its bundle", index)
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(req.VerifierKey)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verifier key:", err)
		os.Exit(2)
	}
	text, err := get(req.URL + "/checkpoint")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	n, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkpoint:", err)
		os.Exit(1)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkpoint size:", err)
		os.Exit(1)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkpoint root:", err)
		os.Exit(1)
	}
	tree := tlog.Tree{N: size, Hash: root}
	res := result{Size: size, Root: base64.StdEncoding.EncodeToString(root[:])}
	hr := tlog.TileHashReader(tree, httpTiles{req.URL, &res.Fetched})
	th, err := tlog.TreeHash(size, hr)
	if err != nil {
		res.TreeHash = "error: " + err.Error()
	} else {
		res.TreeHash = base64.StdEncoding.EncodeToString(th[:])
	}
	for _, index := range req.Indexes {
		status := "ok"
		if p, err := tlog.ProveRecord(size, index, hr); err != nil {
			status = err.Error()
		} else if data, err := entry(req.URL, size, index); err != nil {
			status = err.Error()
		} else if err := tlog.CheckRecord(p, size, root, index, tlog.RecordHash(data)); err != nil {
			status = err.Error()
		}
		res.Inclusion = append(res.Inclusion, status)
	}
	for _, old := range req.OldSizes {
		status := "ok"
		if oldHash, err := tlog.TreeHash(old, hr); err != nil {
			status = err.Error()
		} else if p, err := tlog.ProveTree(size, old, hr); err != nil {
			status = err.Error()
		} else if err := tlog.CheckTree(p, size, root, old, oldHash); err != nil {
			status = err.Error()
		}
		res.Consistency = append(res.Consistency, status)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}
