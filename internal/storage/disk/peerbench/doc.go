// Package peerbench compares the disk store with other embedded engines. It
// is a separate module so that its dependencies (bbolt) never enter
// Overcast's build; the benchmarks also need the benchpeers build tag:
//
//	cd internal/storage/disk/peerbench && go test -tags benchpeers -bench . -benchtime 3s
package peerbench
