package main

import (
	"errors"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/signseg/signseg/eaf"
)

// mediaDirAdvice ends the error for a linked video that was not found.
const mediaDirAdvice = "copy the video next to the .eaf file, or pass the folder it is in with --media-dir DIR"

// mediaDirFlag is --media-dir, for archives whose videos moved. It is a
// GenericFlag collecting every use, not a StringSliceFlag, which would
// split folder names at commas.
func mediaDirFlag() cli.Flag {
	return &cli.GenericFlag{
		Name:  "media-dir",
		Value: &pathList{},
		Usage: "search `DIR` (recursively; repeatable) for linked videos that are not where the EAF file says, by the linked path's " +
			"trailing folders and name: 2019/s12/session.mp4, then s12/session.mp4, then session.mp4 (a tie is an error)",
	}
}

// pathList is a repeatable flag's values, in order.
type pathList []string

// Set adds one value.
func (p *pathList) Set(s string) error {
	*p = append(*p, s)
	return nil
}

// String lists the values.
func (p *pathList) String() string { return strings.Join(*p, ", ") }

// Get returns the values (flag.Getter).
func (p *pathList) Get() any { return []string(*p) }

// mediaDirList returns the --media-dir values.
func mediaDirList(c *cli.Context) []string {
	if p, ok := c.Generic("media-dir").(*pathList); ok {
		return *p
	}
	return nil
}

// mediaDirsFrom checks the --media-dir folders and returns their search,
// shared by all files of the run; nil when there are none.
func mediaDirsFrom(c *cli.Context) (*eaf.MediaDirs, error) {
	dirs := mediaDirList(c)
	if len(dirs) == 0 {
		return nil, nil
	}
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return nil, usagef("--media-dir %s: %v", d, errors.Unwrap(err))
		}
		if !st.IsDir() {
			return nil, usagef("--media-dir %s: not a folder", d)
		}
	}
	return eaf.NewMediaDirs(dirs...), nil
}

// withMediaAdvice makes the error for a video that was not found name the
// flags that fix it.
func withMediaAdvice(err error) error {
	var nf *eaf.NotFoundError
	if errors.As(err, &nf) {
		nf.Advice = mediaDirAdvice
	}
	return err
}
