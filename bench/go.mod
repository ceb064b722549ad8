module github.com/switchyard/switchyard/bench

go 1.26
