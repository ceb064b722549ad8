package analytics

import "time"

// Test hooks: how paced work rests.

func SetRollerSleep(r *Roller, sleep func(time.Duration))     { r.sleep = sleep }
func SetRecorderSleep(r *Recorder, sleep func(time.Duration)) { r.sleep = sleep }

// NewTestPacer returns the steps and checks of a pacer on a given clock.
func NewTestPacer(p Pace, now func() time.Time, sleep func(time.Duration)) (step, check func()) {
	pc := newPacer(p, now, sleep)
	return pc.step, pc.check
}
