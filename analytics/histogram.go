package analytics

import (
	"encoding/binary"
	"errors"
	"math"
)

// Histogram counts durations (in milliseconds) in fixed log-scale buckets:
// bucket 0 holds zero (and anything below 1 ms), bucket i ≥ 1 holds
// [2^((i-1)/8), 2^(i/8)). Eight buckets per doubling put any value within
// 4.5 % of the bucket's geometric middle, which is what Quantile returns.
//
// Fixed buckets make histograms mergeable by adding counts, so percentiles
// of an hour or a day come from the minutes' histograms without the raw
// events. We keep our own ~100 lines instead of a sketch library: the
// bucket layout is the storage format, it must never change under us, and
// the sketches on the module proxy (DDSketch, t-digest) serialise through
// protobuf or their own formats, a dependency for what a slice of counts
// does here.
type Histogram struct {
	counts []uint64
	total  uint64
}

const (
	histPerDoubling = 8
	// histBuckets covers up to 2^50 ms; anything larger lands in the last.
	histBuckets   = 1 + 50*histPerDoubling
	histEncodingV = 1
)

// HistogramError is the largest relative error of a Quantile.
var HistogramError = math.Pow(2, 0.5/histPerDoubling) - 1

func histIndex(ms float64) int {
	if !(ms >= 1) { // also NaN
		return 0
	}
	i := 1 + int(math.Floor(math.Log2(ms)*histPerDoubling))
	return min(i, histBuckets-1)
}

// histValue is the geometric middle of bucket i.
func histValue(i int) float64 {
	if i == 0 {
		return 0
	}
	return math.Pow(2, (float64(i)-0.5)/histPerDoubling)
}

// Add counts one value.
func (h *Histogram) Add(ms int64) {
	i := histIndex(float64(ms))
	if i >= len(h.counts) {
		h.grow(i + 1)
	}
	h.counts[i]++
	h.total++
}

func (h *Histogram) grow(n int) {
	if n <= len(h.counts) {
		return
	}
	if n <= cap(h.counts) {
		h.counts = h.counts[:n]
		return
	}
	c := make([]uint64, n, min(max(n, 2*cap(h.counts), 64), histBuckets))
	copy(c, h.counts)
	h.counts = c
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	h.grow(len(o.counts))
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// Count is how many values were added.
func (h *Histogram) Count() uint64 { return h.total }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) by nearest rank, within
// HistogramError of the true value; 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) float64 {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return histValue(i)
		}
	}
	return histValue(len(h.counts) - 1)
}

// MarshalBinary encodes the non-empty buckets: a version byte, then
// (index gap, count) pairs as uvarints. An empty histogram is nil.
func (h *Histogram) MarshalBinary() ([]byte, error) {
	if h.total == 0 {
		return nil, nil
	}
	b := make([]byte, 1, 16)
	b[0] = histEncodingV
	last := -1
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		b = binary.AppendUvarint(b, uint64(i-last))
		b = binary.AppendUvarint(b, c)
		last = i
	}
	return b, nil
}

var errHistogram = errors.New("analytics: malformed histogram")

// MergeBinary adds the counts of an encoded histogram to h, without
// allocating one for it.
func (h *Histogram) MergeBinary(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if b[0] != histEncodingV {
		return errHistogram
	}
	b = b[1:]
	i := -1
	for len(b) > 0 {
		gap, n := binary.Uvarint(b)
		if n <= 0 || gap == 0 || gap > histBuckets {
			return errHistogram
		}
		b = b[n:]
		c, n := binary.Uvarint(b)
		if n <= 0 {
			return errHistogram
		}
		b = b[n:]
		i += int(gap)
		if i >= histBuckets {
			return errHistogram
		}
		if i >= len(h.counts) {
			h.grow(i + 1)
		}
		h.counts[i] += c
		h.total += c
	}
	return nil
}

// Reset empties h, keeping its memory.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.counts = h.counts[:0]
	h.total = 0
}
