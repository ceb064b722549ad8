package control_test

import (
	"context"
	"sync"
	"testing"

	"github.com/switchyard/switchyard"
	"github.com/switchyard/switchyard/control"
	"github.com/switchyard/switchyard/sqlstore/storetest"
)

// Two admins demoting each other at once must leave one admin.
func TestConcurrentDemotionsKeepAnAdmin(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := b.Open(t)
			ctl, err := control.New(control.Config{Store: db})
			if err != nil {
				t.Fatal(err)
			}
			admins := make([]*switchyard.User, 2)
			for i, name := range []string{"ann", "bob"} {
				admins[i] = &switchyard.User{Username: name, Role: switchyard.RoleAdmin}
				if err := db.CreateUser(ctx, admins[i]); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for i := range admins {
				wg.Add(1)
				go func() {
					defer wg.Done()
					role := switchyard.RoleUser
					_, _ = ctl.UpdateUser(ctx, &control.Actor{User: admins[i]}, admins[1-i].ID, 0, control.UserChange{Role: &role})
				}()
			}
			wg.Wait()
			page, err := db.ListUsers(ctx, switchyard.UserFilter{Role: switchyard.RoleAdmin})
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("no admin left: %v", err)
			}
		})
	}
}
