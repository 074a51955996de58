//go:build !race

package main

// raceBuildFlags is empty without -race (see race_test.go).
var raceBuildFlags []string
