package media

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Rational is an exact frame rate such as 25/1 or 30000/1001, the form in
// which ffprobe reports rates. A zero Rational means "unknown".
type Rational struct {
	Num int64
	Den int64
}

// ParseRational parses "25", "25/1", "30000/1001" or a decimal such as
// "29.97" (taken exactly, as 2997/100). ffprobe's "0/0" parses to the zero
// Rational, meaning unknown.
func ParseRational(s string) (Rational, error) {
	s = strings.TrimSpace(s)
	if s == "0/0" {
		return Rational{}, nil
	}
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		d, err2 := strconv.ParseInt(strings.TrimSpace(den), 10, 64)
		if err1 != nil || err2 != nil || d == 0 || n < 0 || d < 0 {
			return Rational{}, fmt.Errorf("invalid rational %q: want N/D with integers N ≥ 0 and D > 0", s)
		}
		return Rational{n, d}.reduce(), nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 || !r.Num().IsInt64() || !r.Denom().IsInt64() {
		return Rational{}, fmt.Errorf("invalid rational %q: want a number such as 25 or a ratio such as 30000/1001", s)
	}
	return Rational{r.Num().Int64(), r.Denom().Int64()}, nil
}

func (r Rational) reduce() Rational {
	a, b := r.Num, r.Den
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return r
	}
	return Rational{r.Num / a, r.Den / a}
}

// IsZero reports whether r is unknown (zero numerator or denominator).
func (r Rational) IsZero() bool { return r.Num == 0 || r.Den == 0 }

// Float64 returns r as a float, or 0 when r is unknown.
func (r Rational) Float64() float64 {
	if r.Den == 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// String formats r as "N/D", the syntax ffmpeg accepts for rates.
func (r Rational) String() string { return fmt.Sprintf("%d/%d", r.Num, r.Den) }

// MarshalJSON writes a whole rate as a number (25) and any other as a
// string ("30000/1001"), the forms a model manifest uses.
func (r Rational) MarshalJSON() ([]byte, error) {
	if r.Den == 1 {
		return []byte(strconv.FormatInt(r.Num, 10)), nil
	}
	return json.Marshal(r.String())
}

// UnmarshalJSON accepts a JSON number (25, 29.97) or a string in any form
// ParseRational accepts ("30000/1001").
func (r *Rational) UnmarshalJSON(b []byte) error {
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := ParseRational(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// frameTimeMs returns the time of frame i on a grid of rate r starting at 0.
func (r Rational) frameTimeMs(i int) float64 {
	return float64(i) * 1000 * float64(r.Den) / float64(r.Num)
}

// framesIn returns the number of frames of rate r in d seconds, rounded
// to the nearest frame.
func (r Rational) framesIn(seconds float64) int {
	if r.IsZero() || seconds <= 0 {
		return 0
	}
	return int(math.Round(seconds * r.Float64()))
}
