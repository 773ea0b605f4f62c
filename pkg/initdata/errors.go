package initdata

import "errors"

// InvalidError reports malformed init-data: bad base64, gzip or TOML, an
// unknown version or algorithm. Callers treat it as bad input.
type InvalidError struct {
	// What was being read, e.g. "base64", "gzip", "TOML", "version".
	What string
	Err  error
}

func (e *InvalidError) Error() string { return "invalid init-data " + e.What + ": " + e.Err.Error() }

func (e *InvalidError) Unwrap() error { return e.Err }

// IsInvalid reports whether err is (or wraps) an InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

func invalid(what string, err error) error { return &InvalidError{What: what, Err: err} }
