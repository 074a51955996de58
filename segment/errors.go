package segment

import (
	"fmt"
	"strings"
)

// ConfigError reports settings that cannot work: decoding or runtime options
// out of range, or options that do not fit the model (a threshold decoder for
// a model without a temporal network, say). It is the caller's mistake, not
// a failure of the model or the machine. Err joins every problem found
// (errors.Join), so errors.Is and errors.As reach each of them.
type ConfigError struct {
	Model string // the model the settings were meant for
	Err   error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("model %s: %s", e.Model, strings.ReplaceAll(e.Err.Error(), "\n", "; "))
}

func (e *ConfigError) Unwrap() error { return e.Err }

// ModelNotFoundError is returned by LoadModel when a model name is neither
// installed in the models folder nor built in.
type ModelNotFoundError struct {
	Name      string
	Dir       string   // the models folder searched ("" if none)
	Available []string // names that would have been found
}

func (e *ModelNotFoundError) Error() string {
	where := "among the built-in models"
	if e.Dir != "" {
		where = "in " + e.Dir + " or " + where
	}
	return fmt.Sprintf("model %q not found %s (available: %s); give a model folder path or install the model there",
		e.Name, where, strings.Join(e.Available, ", "))
}
