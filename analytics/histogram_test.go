package analytics_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/analytics"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []int64, q float64) float64 {
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return float64(sorted[rank-1])
}

func withinError(got, want float64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(got-want)/want <= analytics.HistogramError+1e-9
}

func TestHistogramQuantilesWithinBucketError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var whole analytics.Histogram
	var all []int64
	// Ten parts merged through their encoding, as rollups are.
	for range 10 {
		var part analytics.Histogram
		for range 1000 {
			v := int64(math.Exp(rng.NormFloat64()*1.2 + 6)) // ~400 ms, long tail
			if rng.IntN(50) == 0 {
				v = 0
			}
			part.Add(v)
			all = append(all, v)
		}
		b, err := part.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 400 {
			t.Errorf("a 1,000-value histogram encodes to %d bytes", len(b))
		}
		if err := whole.MergeBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(all)
	if whole.Count() != uint64(len(all)) {
		t.Fatalf("count %d, want %d", whole.Count(), len(all))
	}
	for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1} {
		got, want := whole.Quantile(q), exactQuantile(all, q)
		if !withinError(got, want) {
			t.Errorf("q%.3f = %.1f, exact %.0f: more than %.1f%% off", q, got, want, 100*analytics.HistogramError)
		}
	}
}

func TestHistogramMergeAndEncoding(t *testing.T) {
	var a, b, both analytics.Histogram
	for i := range int64(500) {
		a.Add(i)
		b.Add(i * 1000)
		both.Add(i)
		both.Add(i * 1000)
	}
	a.Merge(&b)
	ea, _ := a.MarshalBinary()
	eb, _ := both.MarshalBinary()
	if string(ea) != string(eb) {
		t.Fatal("merging differs from adding the values to one histogram")
	}
	var empty analytics.Histogram
	if e, _ := empty.MarshalBinary(); e != nil || empty.Quantile(0.5) != 0 {
		t.Fatalf("empty histogram encodes to %v", e)
	}
	for _, bad := range [][]byte{{2, 1, 1}, {1, 0, 1}, {1, 0xff}, {1, 1}} {
		var h analytics.Histogram
		if err := h.MergeBinary(bad); err == nil {
			t.Errorf("MergeBinary(%v) accepted a malformed histogram", bad)
		}
	}
}
