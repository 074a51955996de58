//go:build !linux

package atomicfile

// exchange is not available: ReplaceDir falls back to two renames.
func exchange(a, b string) error { return errNoExchange }
