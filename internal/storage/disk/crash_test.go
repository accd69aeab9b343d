package disk

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/overcast-dev/overcast/internal/storage"
)

// The crash tests re-run this test binary as a child that writes to a store
// and prints an acknowledgement after each write returns. The parent kills it
// with SIGKILL mid-stream and checks that everything acknowledged survived.

const (
	helperModeEnv = "OVERCAST_DISK_CRASH_HELPER"
	helperDirEnv  = "OVERCAST_DISK_CRASH_DIR"
	crashWriters  = 4
)

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		return
	}
	s, err := Open(os.Getenv(helperDirEnv), Options{CompactBytes: 64 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex // one ack line per write(2), never interleaved
	ack := func(w, i int) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, "%d %d\n", w, i)
	}
	var wg sync.WaitGroup
	for w := 0; w < crashWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1_000_000; i++ { // bounded in case the parent is gone
				var err error
				if mode == "kv" {
					err = s.Update(func(tx storage.Tx) error {
						return tx.Put(crashKey(w, i), crashValue(w, i))
					})
				} else {
					_, err = s.Blobs().Put(string(crashKey(w, i)), bytes.NewReader(crashBlob(w, i)))
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				ack(w, i)
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}

func crashKey(w, i int) []byte   { return []byte(fmt.Sprintf("w%d/%08d", w, i)) }
func crashValue(w, i int) []byte { return bytes.Repeat([]byte{byte(w), byte(i)}, 1+i%200) }
func crashBlob(w, i int) []byte  { return bytes.Repeat([]byte{byte(w), byte(i), 0x5a}, 1+(i%40)*1000) }

// runUntilKilled starts the helper in mode, waits for minAcks acknowledgements,
// kills it, and returns every acknowledgement it printed.
func runUntilKilled(t *testing.T, mode, dir string, minAcks int) [][2]int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperModeEnv+"="+mode, helperDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acks [][2]int
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue // cannot happen: ack lines are single small writes
		}
		w, _ := strconv.Atoi(f[0])
		i, _ := strconv.Atoi(f[1])
		acks = append(acks, [2]int{w, i})
		if len(acks) == minAcks && !killed {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	if !killed {
		t.Fatalf("helper exited after %d acks: %v\n%s", len(acks), err, stderr.String())
	}
	return acks
}

func TestCrashKV(t *testing.T) {
	dir := t.TempDir()
	for round := 0; round < 3; round++ { // crash, recover and crash again
		acks := runUntilKilled(t, "kv", dir, 500)
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		err = s.View(func(tx storage.Tx) error {
			for _, a := range acks {
				v, err := tx.Get(crashKey(a[0], a[1]))
				if err != nil || !bytes.Equal(v, crashValue(a[0], a[1])) {
					return fmt.Errorf("acknowledged %s lost: %d bytes, %v", crashKey(a[0], a[1]), len(v), err)
				}
			}
			return nil
		})
		s.Close()
		if err != nil {
			t.Fatalf("round %d (%d acks): %v", round, len(acks), err)
		}
	}
}

func TestCrashBlobs(t *testing.T) {
	dir := t.TempDir()
	acks := runUntilKilled(t, "blob", dir, 200)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	last := map[int]int{}
	for _, a := range acks {
		got := readAll(t, s.Blobs(), string(crashKey(a[0], a[1])))
		if !bytes.Equal(got, crashBlob(a[0], a[1])) {
			t.Fatalf("acknowledged blob %s: %d bytes, want %d", crashKey(a[0], a[1]), len(got), len(crashBlob(a[0], a[1])))
		}
		last[a[0]] = max(last[a[0]], a[1])
	}
	// The write in flight at the kill is absent or whole, never partial.
	for w := 0; w < crashWriters; w++ {
		k := string(crashKey(w, last[w]+1))
		if got := readAll(t, s.Blobs(), k); got != nil && !bytes.Equal(got, crashBlob(w, last[w]+1)) {
			t.Fatalf("unacknowledged blob %s is partial: %d bytes", k, len(got))
		}
	}
}

func readAll(t *testing.T, b storage.Blobs, key string) []byte {
	t.Helper()
	bl, err := b.Open(key)
	if err != nil {
		return nil
	}
	defer bl.Close()
	data, err := io.ReadAll(bl)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
