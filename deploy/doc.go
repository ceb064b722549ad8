// Package deploy holds the deployment files: the container image definition
// (Dockerfile), the systemd unit and the Kubernetes (Kustomize) base. Its
// tests check them: probes, resources, the non-root user, hardening, and
// that every setting they use exists.
package deploy
