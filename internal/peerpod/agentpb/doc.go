// Package agentpb is the part of the kata agent protocol the peer-pod
// daemon's tests and the local provider's stand-in agent speak: the health
// service the shim calls first on every agent connection. The daemon itself
// forwards agent traffic byte for byte and needs no agent types.
package agentpb

//go:generate go run ../../../tools/protogen . health.proto
