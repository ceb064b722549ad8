// Package switchyard holds the domain of the Switchyard control plane and
// gateway: providers, their credentials and models, provider templates,
// connections, users, API tokens and the audit log, together with their
// validation rules and the interfaces that storage implements.
//
// The package imports the standard library only. Technology lives in
// subpackages named for it (sqlstore, secret, catalog, …) and the single
// place that wires them together is cmd/switchyard.
package switchyard
