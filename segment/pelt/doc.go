// Package pelt finds changepoints in a feature sequence by PELT (Killick
// et al., 2012) with the L2 cost, exactly, and turns them into per-frame
// boundary scores. It is pure Go.
package pelt
