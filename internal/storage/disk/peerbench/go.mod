module github.com/overcast-dev/overcast/internal/storage/disk/peerbench

go 1.26.8

require (
	github.com/overcast-dev/overcast v0.0.0
	go.etcd.io/bbolt v1.5.0
)

require golang.org/x/sys v0.45.0 // indirect

replace github.com/overcast-dev/overcast => ../../../..
