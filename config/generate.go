package config

//go:generate go run ./internal/refgen ../docs/configuration.md
