package events_test

import (
	"encoding/json"
	"testing"

	"github.com/switchyard/switchyard/events"
)

func TestPublishReachesEverySubscriber(t *testing.T) {
	b := events.New(events.Config{})
	s1, s2 := b.Subscribe(0), b.Subscribe(0)
	defer s1.Close()
	defer s2.Close()
	b.Publish(events.TypeProviderStatus, false, map[string]string{"to": "down"})
	for _, s := range []*events.Subscription{s1, s2} {
		e := <-s.C()
		var d map[string]string
		if err := json.Unmarshal(e.Data, &d); err != nil || e.ID != 1 || e.Type != events.TypeProviderStatus || d["to"] != "down" {
			t.Fatalf("event = %+v (%v)", e, err)
		}
	}
}

func TestSlowSubscriberIsCutOffAndPublishDoesNotWait(t *testing.T) {
	b := events.New(events.Config{Buffer: 2, Keep: 10})
	slow := b.Subscribe(0)
	for i := range 5 {
		b.Publish("tick", false, i)
	}
	n := 0
	for range slow.C() {
		n++
	}
	if n != 2 || b.Subscribers() != 0 {
		t.Fatalf("slow subscriber got %d events before being cut off (want 2), %d subscribers left", n, b.Subscribers())
	}
	// It comes back with the last id it saw and gets the rest.
	back := b.Subscribe(2)
	defer back.Close()
	var ids []uint64
	for len(ids) < 3 {
		ids = append(ids, (<-back.C()).ID)
	}
	if ids[0] != 3 || ids[2] != 5 || back.Gap {
		t.Fatalf("replayed %v (gap %v), want 3, 4, 5", ids, back.Gap)
	}
}

func TestReplayReportsAGap(t *testing.T) {
	b := events.New(events.Config{Keep: 3})
	for i := range 6 {
		b.Publish("tick", false, i)
	}
	s := b.Subscribe(1)
	defer s.Close()
	if !s.Gap || (<-s.C()).ID != 4 {
		t.Fatal("a return past the kept events must report a gap and start at the oldest kept")
	}
	if cur := b.Subscribe(6); cur.Gap || len(cur.C()) != 0 {
		t.Fatal("a subscriber that is up to date gets nothing replayed")
	}
}
