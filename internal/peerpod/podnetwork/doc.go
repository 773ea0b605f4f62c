// Package podnetwork is the worker-node end of a peer pod's network: what
// cloud-api-adaptor v0.22.0 does in
// src/cloud-api-adaptor/pkg/podnetwork/workernode.go and
// tunneler/vxlan/workernode.go, for the VXLAN tunnel it supports.
//
// A peer pod's network namespace on the node holds the interface the CNI
// plugin made (eth0, with the pod's IP), but its containers run in a VM in
// the cloud. The daemon therefore
//
//  1. Inspects the pod's namespace before the VM is created, and puts what
//     it found — address, MAC, MTU, routes, permanent neighbours, the
//     node's address and a VXLAN id unique on the node — in the VM's
//     apf.json (userdata.PodNetwork), from which the VM's forwarder
//     recreates the pod's eth0 as its end of the tunnel
//     (pkg/podnetwork/podnode.go, tunneler/vxlan/podnode.go);
//  2. Sets up, once the VM has an address, a VXLAN device toward it inside
//     the pod's namespace (its UDP socket stays in the node's namespace)
//     and a tc mirred redirect each way between eth0 and it: every frame
//     the node sends to the pod goes to the VM and back;
//  3. Tears that down when the VM goes.
//
// Typical use by the daemon:
//
//	nw, err := podnetwork.New(cfg)                   // once
//	for _, sb := range restored { nw.Adopt(sb.PodNetwork) }
//	pn, err := nw.Inspect(netnsPath)                 // CreateVM
//	// ... create the VM with pn in its user data ...
//	err = nw.Setup(netnsPath, vm.IPs, pn)            // StartVM
//	err = nw.Teardown(netnsPath, pn)                 // StopVM
//	nw.Release(pn)                                   // sandbox gone
//
// The network code is Linux-only; elsewhere New succeeds and Inspect,
// Setup and Teardown return ErrUnsupported.
package podnetwork
