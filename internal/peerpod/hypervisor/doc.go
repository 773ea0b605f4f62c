// Package hypervisor is kata's remote-hypervisor ttrpc protocol: the
// messages, the service interface the daemon implements and the client the
// kata shim uses. The Go code is generated from hypervisor.proto by
// internal/protogen; TestGeneratedIsCurrent fails when it is stale.
package hypervisor

//go:generate go run ../../../tools/protogen . hypervisor.proto
