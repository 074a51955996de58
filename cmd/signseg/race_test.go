//go:build race

package main

// raceBuildFlags makes the binary that tests run as a separate process
// race-checked too when the tests are (go test -race).
var raceBuildFlags = []string{"-race"}
