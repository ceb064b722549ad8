package provider

import (
	"bufio"
	"bytes"
	"io"
)

// maxEventLine bounds one line of an event stream.
const maxEventLine = 4 << 20

// Event is one server-sent event.
type Event struct {
	Name string
	Data []byte
}

// SSEReader reads server-sent events (text/event-stream) as the HTML
// standard defines them: "event:" and "data:" fields, an event ending at a
// blank line, comments (":") ignored.
type SSEReader struct {
	r *bufio.Reader
}

// NewSSEReader reads events from r.
func NewSSEReader(r io.Reader) *SSEReader {
	// Events are small; a longer line is read in pieces (readLine).
	return &SSEReader{r: bufio.NewReaderSize(r, 8<<10)}
}

// Next returns the next event, or io.EOF when the stream ends cleanly;
// io.ErrUnexpectedEOF when it ends inside an event.
func (s *SSEReader) Next() (Event, error) {
	var ev Event
	var data bytes.Buffer
	started := false
	for {
		line, err := s.readLine()
		if err != nil {
			if err == io.EOF && started {
				return ev, io.ErrUnexpectedEOF
			}
			return ev, err
		}
		if len(line) == 0 {
			if !started {
				continue
			}
			ev.Data = bytes.TrimSuffix(data.Bytes(), []byte("\n"))
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.Name, started = string(value), true
		case "data":
			data.Write(value)
			data.WriteByte('\n')
			started = true
		}
	}
}

func (s *SSEReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := s.r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		if len(line) > maxEventLine {
			return nil, Errorf(CodeBadResponse, nil, "an event stream line is longer than %d bytes", maxEventLine)
		}
		if !isPrefix {
			return line, nil
		}
	}
}
