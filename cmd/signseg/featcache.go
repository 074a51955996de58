package main

import (
	"bufio"
	// Aliased: the package's tests have a variable named binary.
	binenc "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/signseg/signseg/internal/atomicfile"
	"github.com/signseg/signseg/segment"
)

// A feature cache file holds one video's features: the magic line, a
// little-endian uint32 header length, a JSON header, the rows × dim values
// as little-endian float32 (row-major), then a CRC-32 (IEEE) of everything
// before it. Training reads every file back in every epoch, and raw values
// read several times faster than gob's encoding of them.
const featureCacheMagic = "signseg-features-v2\n"

// maxCacheHeader bounds the JSON header, which holds a few short fields.
const maxCacheHeader = 1 << 16

// featureCacheHeader describes the features and whose they are.
type featureCacheHeader struct {
	VideoSHA  string  `json:"video_sha256"`
	FeatureID string  `json:"feature_id"`
	Dim       int     `json:"dim"`
	Rows      int     `json:"rows"`
	Offset    int     `json:"offset"`
	Frames    int     `json:"frames"`
	FPS       float64 `json:"fps"`
	StartMS   float64 `json:"start_ms"`
}

// chunk is the number of values converted at a time.
const chunk = 16 << 10

// writeFeatureCache writes fe, the features of the video with SHA-256 sum
// by the feature model featID, to path atomically.
func writeFeatureCache(path, sum, featID string, fe *segment.Features) error {
	h := featureCacheHeader{VideoSHA: sum, FeatureID: featID, Dim: fe.Dim, Rows: fe.Rows(), Offset: fe.Offset,
		Frames: fe.Frames, FPS: fe.FPS, StartMS: fe.StartMS}
	js, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, atomicfile.Options{}, func(w io.Writer) error {
		crc := crc32.NewIEEE()
		bw := bufio.NewWriter(io.MultiWriter(w, crc))
		bw.WriteString(featureCacheMagic)
		binenc.Write(bw, binenc.LittleEndian, uint32(len(js)))
		bw.Write(js)
		data := fe.Data[:h.Rows*h.Dim]
		buf := make([]byte, 4*chunk)
		for i := 0; i < len(data); i += chunk {
			part := data[i:min(i+chunk, len(data))]
			for j, v := range part {
				binenc.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			bw.Write(buf[:4*len(part)])
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return binenc.Write(w, binenc.LittleEndian, crc.Sum32())
	})
}

// readFeatureCache reads a cache file and checks that it is whole and holds
// the features (dim values a row) of the video with SHA-256 sum by the
// feature model featID.
func readFeatureCache(path, sum, featID string, dim int) (*segment.Features, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	fe, err := parseFeatureCache(f, st.Size(), sum, featID, dim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fe, nil
}

// parseFeatureCache reads a cache file of size bytes from r.
func parseFeatureCache(r io.Reader, size int64, sum, featID string, dim int) (*segment.Features, error) {
	crc := crc32.NewIEEE()
	br := bufio.NewReader(r)
	tr := io.TeeReader(br, crc)
	magic := make([]byte, len(featureCacheMagic))
	if _, err := io.ReadFull(tr, magic); err != nil || string(magic) != featureCacheMagic {
		return nil, errors.New("not a signseg feature cache file of this version")
	}
	var n uint32
	if err := binenc.Read(tr, binenc.LittleEndian, &n); err != nil || n > maxCacheHeader {
		return nil, errors.New("bad header length")
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(tr, js); err != nil {
		return nil, errors.New("truncated header")
	}
	var h featureCacheHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("bad header: %w", err)
	}
	if h.VideoSHA != sum || h.FeatureID != featID || h.Dim != dim {
		return nil, errors.New("not the features of this video by this model")
	}
	rest := size - int64(len(featureCacheMagic)) - 4 - int64(n) - 4
	if h.Dim <= 0 || h.Rows <= 0 || int64(h.Rows) > rest/4/int64(h.Dim) || int64(h.Rows)*int64(h.Dim)*4 != rest ||
		h.Offset < 0 || h.Frames < 0 || !(h.FPS > 0) || math.IsInf(h.FPS, 0) || math.IsNaN(h.StartMS) || math.IsInf(h.StartMS, 0) {
		return nil, errors.New("bad header or truncated file")
	}
	data := make([]float32, h.Rows*h.Dim)
	buf := make([]byte, 4*chunk)
	for i := 0; i < len(data); i += chunk {
		part := data[i:min(i+chunk, len(data))]
		b := buf[:4*len(part)]
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, errors.New("truncated file")
		}
		for j := range part {
			part[j] = math.Float32frombits(binenc.LittleEndian.Uint32(b[4*j:]))
		}
	}
	want := crc.Sum32()
	var got uint32
	if err := binenc.Read(br, binenc.LittleEndian, &got); err != nil || got != want {
		return nil, errors.New("checksum mismatch (the file is truncated or damaged)")
	}
	return &segment.Features{Data: data, Dim: h.Dim, Offset: h.Offset, Frames: h.Frames, FPS: h.FPS, StartMS: h.StartMS}, nil
}
