module github.com/overcast-dev/overcast

go 1.26.8
