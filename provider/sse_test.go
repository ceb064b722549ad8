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
