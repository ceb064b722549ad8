package provider

import (
	"bufio"
	"bytes"
	"io"
	"sync"
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
	r    *bufio.Reader
	data bytes.Buffer
	line []byte
}

// readers holds the 8 KiB buffers of ended streams for the next ones: a
// gateway streaming at a high rate would otherwise allocate (and zero) one
// per request.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 8<<10) }}

// HookedBody is a response body that calls Hook (when set) before each
// read from the network; streams use it to implement ReadNotifier.
type HookedBody struct {
	io.ReadCloser
	Hook func()
}

// Read calls the hook, then reads.
func (b *HookedBody) Read(p []byte) (int, error) {
	if b.Hook != nil {
		b.Hook()
	}
	return b.ReadCloser.Read(p)
}

// NewSSEReader reads events from r. Call Release once the stream has ended.
func NewSSEReader(r io.Reader) *SSEReader {
	// Events are small; a longer line is read in pieces (readLine).
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return &SSEReader{r: br}
}

// Release hands the reader's buffer back for reuse. Call it from the
// goroutine that calls Next, once the stream has ended (the last event
// read, or an error); Next returns io.EOF after it. Not calling it is
// harmless.
func (s *SSEReader) Release() {
	if s.r == nil {
		return
	}
	s.r.Reset(nil)
	readers.Put(s.r)
	s.r = nil
}

// Next returns the next event, or io.EOF when the stream ends cleanly;
// io.ErrUnexpectedEOF when it ends inside an event. The event's Data is
// valid until the next call to Next or Release.
func (s *SSEReader) Next() (Event, error) {
	var ev Event
	if s.r == nil {
		return ev, io.EOF
	}
	data := &s.data
	data.Reset()
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

// readLine returns the next line without its end, valid until the next
// read: a line that fits the buffer is not copied.
func (s *SSEReader) readLine() ([]byte, error) {
	chunk, isPrefix, err := s.r.ReadLine()
	if err != nil || !isPrefix {
		return chunk, err
	}
	line := append(s.line[:0], chunk...)
	for {
		chunk, isPrefix, err := s.r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, chunk...)
		s.line = line[:0]
		if len(line) > maxEventLine {
			return nil, Errorf(CodeBadResponse, nil, "an event stream line is longer than %d bytes", maxEventLine)
		}
		if !isPrefix {
			return line, nil
		}
	}
}
