package bedrock

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
)

// The AWS event stream framing (application/vnd.amazon.eventstream), read by
// hand: it is one page of code with the standard library's CRC32, where the
// SDK's decoder would bring its modules into the gateway for this alone.
//
// A message is
//
//	total length   uint32 (whole message, CRCs included)
//	headers length uint32
//	prelude CRC    uint32 (CRC32 IEEE of the 8 bytes above)
//	headers        name length uint8, name, type uint8, value
//	payload
//	message CRC    uint32 (CRC32 IEEE of everything before it)
const (
	preludeLen = 12
	minMessage = preludeLen + 4
	// maxMessage bounds a message: AWS allows 16 MiB of payload and 128 KiB
	// of headers.
	maxMessage     = 16<<20 + 128<<10 + minMessage
	maxHeadersSize = 128 << 10
)

// errFraming is wrapped by every error about a malformed message.
var errFraming = errors.New("malformed event stream message")

// message is one decoded event stream message. Header values of other
// types than string are kept in their text form.
type message struct {
	Headers map[string]string
	Payload []byte
}

// eventReader reads event stream messages.
type eventReader struct {
	r   *bufio.Reader
	buf []byte
}

func newEventReader(r io.Reader) *eventReader {
	return &eventReader{r: bufio.NewReaderSize(r, 32<<10)}
}

// Next returns the next message; io.EOF when the stream ends between
// messages, io.ErrUnexpectedEOF when it ends inside one, and an error
// wrapping errFraming when a length or a CRC is wrong.
func (er *eventReader) Next() (message, error) {
	var prelude [preludeLen]byte
	if _, err := io.ReadFull(er.r, prelude[:]); err != nil {
		return message{}, err
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	hlen := binary.BigEndian.Uint32(prelude[4:8])
	if got, want := crc32.ChecksumIEEE(prelude[:8]), binary.BigEndian.Uint32(prelude[8:12]); got != want {
		return message{}, fmt.Errorf("%w: prelude CRC %08x, computed %08x", errFraming, want, got)
	}
	if total < minMessage || total > maxMessage || hlen > maxHeadersSize || hlen > total-minMessage {
		return message{}, fmt.Errorf("%w: lengths %d (headers %d)", errFraming, total, hlen)
	}
	n := int(total) - preludeLen
	if cap(er.buf) < n {
		er.buf = make([]byte, n)
	}
	rest := er.buf[:n]
	if _, err := io.ReadFull(er.r, rest); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return message{}, err
	}
	crc := crc32.Update(crc32.ChecksumIEEE(prelude[:]), crc32.IEEETable, rest[:n-4])
	if want := binary.BigEndian.Uint32(rest[n-4:]); crc != want {
		return message{}, fmt.Errorf("%w: message CRC %08x, computed %08x", errFraming, want, crc)
	}
	headers, err := parseHeaders(rest[:hlen])
	if err != nil {
		return message{}, err
	}
	payload := append([]byte(nil), rest[hlen:n-4]...)
	return message{Headers: headers, Payload: payload}, nil
}

// parseHeaders reads the header block. Every value type of the format is
// understood, so that a message with an unexpected header still parses.
func parseHeaders(b []byte) (map[string]string, error) {
	h := map[string]string{}
	short := fmt.Errorf("%w: truncated header", errFraming)
	for len(b) > 0 {
		nl := int(b[0])
		if len(b) < 1+nl+1 {
			return nil, short
		}
		name := string(b[1 : 1+nl])
		typ := b[1+nl]
		b = b[2+nl:]
		var size int
		switch typ {
		case 0, 1: // bool true, bool false
			h[name] = strconv.FormatBool(typ == 0)
			continue
		case 2:
			size = 1
		case 3:
			size = 2
		case 4:
			size = 4
		case 5, 8: // int64, timestamp (ms)
			size = 8
		case 9: // uuid
			size = 16
		case 6, 7: // bytes, string: uint16 length
			if len(b) < 2 {
				return nil, short
			}
			size = int(binary.BigEndian.Uint16(b))
			b = b[2:]
		default:
			return nil, fmt.Errorf("%w: header %q has unknown type %d", errFraming, name, typ)
		}
		if len(b) < size {
			return nil, short
		}
		v := b[:size]
		b = b[size:]
		switch typ {
		case 2:
			h[name] = strconv.Itoa(int(int8(v[0])))
		case 3:
			h[name] = strconv.Itoa(int(int16(binary.BigEndian.Uint16(v))))
		case 4:
			h[name] = strconv.Itoa(int(int32(binary.BigEndian.Uint32(v))))
		case 5, 8:
			h[name] = strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10)
		case 9:
			h[name] = fmt.Sprintf("%x", v)
		default:
			h[name] = string(v)
		}
	}
	return h, nil
}
