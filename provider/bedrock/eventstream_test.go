package bedrock

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"testing"
	"time"

	"github.com/aws/smithy-go/eventstream"

	"github.com/switchyard/switchyard/provider/fake"
)

// TestEventReaderSDKFrames decodes messages made by the encoder the AWS SDK
// uses (smithy-go's), with every header type.
func TestEventReaderSDKFrames(t *testing.T) {
	var buf bytes.Buffer
	enc := eventstream.NewEncoder()
	var msg eventstream.Message
	msg.Headers.Set(":event-type", eventstream.StringValue("contentBlockDelta"))
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Headers.Set(":message-type", eventstream.StringValue("event"))
	msg.Headers.Set("t", eventstream.BoolValue(true))
	msg.Headers.Set("f", eventstream.BoolValue(false))
	msg.Headers.Set("i8", eventstream.Int8Value(-3))
	msg.Headers.Set("i16", eventstream.Int16Value(-300))
	msg.Headers.Set("i32", eventstream.Int32Value(70000))
	msg.Headers.Set("i64", eventstream.Int64Value(-1<<40))
	msg.Headers.Set("b", eventstream.BytesValue([]byte("raw")))
	msg.Headers.Set("ts", eventstream.TimestampValue(time.UnixMilli(1700000000123)))
	msg.Headers.Set("u", eventstream.UUIDValue{0: 0xab, 15: 0xcd})
	msg.Payload = []byte(`{"contentBlockIndex":0,"delta":{"text":"Hi"}}`)
	if err := enc.Encode(&buf, msg); err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(&buf, eventstream.Message{}); err != nil { // no headers, no payload
		t.Fatal(err)
	}
	r := newEventReader(&buf)
	got, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event",
		"t": "true", "f": "false", "i8": "-3", "i16": "-300", "i32": "70000", "i64": "-1099511627776", "b": "raw",
		"ts": "1700000000123", "u": "ab0000000000000000000000000000cd"}
	for k, v := range want {
		if got.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, got.Headers[k], v)
		}
	}
	if string(got.Payload) != string(msg.Payload) {
		t.Errorf("payload %s", got.Payload)
	}
	if got, err := r.Next(); err != nil || len(got.Headers) != 0 || len(got.Payload) != 0 {
		t.Errorf("empty message: %v %+v", err, got)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

// TestEventReaderMatchesFake reads the fake's frames, and the SDK's decoder
// agrees with them.
func TestEventReaderMatchesFake(t *testing.T) {
	frame := fake.EncodeEventStreamMessage([][2]string{{":event-type", "messageStart"}, {":message-type", "event"}}, []byte(`{"role":"assistant"}`))
	m, err := eventstream.NewDecoder().Decode(bytes.NewReader(frame), nil)
	if err != nil || m.Headers.Get(":event-type").String() != "messageStart" || string(m.Payload) != `{"role":"assistant"}` {
		t.Fatalf("SDK decoder: %v %+v", err, m)
	}
	got, err := newEventReader(bytes.NewReader(frame)).Next()
	if err != nil || got.Headers[":event-type"] != "messageStart" || string(got.Payload) != `{"role":"assistant"}` {
		t.Errorf("%v %+v", err, got)
	}
}

func TestEventReaderErrors(t *testing.T) {
	frame := fake.EncodeEventStreamMessage([][2]string{{":message-type", "event"}}, []byte(`{}`))
	corrupt := func(i int) []byte {
		b := bytes.Clone(frame)
		b[i] ^= 0x01
		return b
	}
	cases := map[string]struct {
		data []byte
		want error
	}{
		"message CRC":       {corrupt(len(frame) - 1), errFraming},
		"payload":           {corrupt(len(frame) - 5), errFraming},
		"prelude CRC":       {corrupt(9), errFraming},
		"total length":      {corrupt(3), errFraming},
		"cut in prelude":    {frame[:7], io.ErrUnexpectedEOF},
		"cut in the body":   {frame[:len(frame)-2], io.ErrUnexpectedEOF},
		"cut between":       {frame[:0], io.EOF},
		"headers too long":  {withLengths(100, 90), errFraming},
		"message too short": {withLengths(15, 0), errFraming},
	}
	for name, c := range cases {
		_, err := newEventReader(bytes.NewReader(c.data)).Next()
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// withLengths is a prelude with a valid CRC and the given lengths.
func withLengths(total, headers uint32) []byte {
	f := fake.EncodeEventStreamMessage(nil, nil)
	f[0], f[1], f[2], f[3] = byte(total>>24), byte(total>>16), byte(total>>8), byte(total)
	f[4], f[5], f[6], f[7] = byte(headers>>24), byte(headers>>16), byte(headers>>8), byte(headers)
	sum := crc32.ChecksumIEEE(f[:8])
	f[8], f[9], f[10], f[11] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
	return append(f, make([]byte, 200)...)
}
