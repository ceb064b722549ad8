package sqlstore_test

import (
	"testing"

	"github.com/switchyard/switchyard/sqlstore/storetest"
)

func TestContract(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, b)
		})
	}
}
