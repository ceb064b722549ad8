package provider_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/provider"
)

func TestSSEReader(t *testing.T) {
	stream := ": keep-alive\n\nevent: message_start\ndata: {\"a\":1}\n\ndata: line one\ndata: line two\n\n\r\ndata: [DONE]\n\n"
	r := provider.NewSSEReader(strings.NewReader(stream))
	want := []provider.Event{{Name: "message_start", Data: []byte(`{"a":1}`)}, {Data: []byte("line one\nline two")}, {Data: []byte("[DONE]")}}
	for i, w := range want {
		ev, err := r.Next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.Name != w.Name || string(ev.Data) != string(w.Data) {
			t.Fatalf("event %d = %q %q, want %q %q", i, ev.Name, ev.Data, w.Name, w.Data)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last event: %v, want io.EOF", err)
	}
	cut := provider.NewSSEReader(strings.NewReader("data: {\"partial\""))
	if _, err := cut.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a stream cut inside an event: %v, want io.ErrUnexpectedEOF", err)
	}
}

// A line longer than the reader's buffer arrives whole, and a reader's
// buffer handed back after one stream serves the next without mixing them.
func TestSSEReaderLongLinesAndReuse(t *testing.T) {
	long := strings.Repeat("x", 20_000)
	for round := range 3 {
		r := provider.NewSSEReader(strings.NewReader("data: " + long + "\n\ndata: short\n\n"))
		ev, err := r.Next()
		if err != nil || string(ev.Data) != long {
			t.Fatalf("round %d: long event = %d bytes, %v; want %d bytes", round, len(ev.Data), err, len(long))
		}
		ev, err = r.Next()
		if err != nil || string(ev.Data) != "short" {
			t.Fatalf("round %d: second event = %q, %v", round, ev.Data, err)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("round %d: end = %v, want io.EOF", round, err)
		}
		r.Release()
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("round %d: Next after Release = %v, want io.EOF", round, err)
		}
		r.Release() // twice is harmless
	}
}
