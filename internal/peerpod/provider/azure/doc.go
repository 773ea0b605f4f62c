// Package azure is peerpodd's Azure provider: it creates and deletes the
// confidential VM (AMD SEV-SNP or Intel TDX, Azure's ConfidentialVM security
// type) that runs a peer pod's sandbox, through Azure Resource Manager and
// the Azure SDK for Go.
//
// It reads the same environment keys as the cloud-api-adaptor Azure
// provider at v0.22.0, so an existing peer-pods-cm ConfigMap and
// peer-pods-secret Secret keep working; see ConfigFromEnv. Each VM gets its
// own NIC in AZURE_SUBNET_ID, named <vm>-net, and an OS disk named
// <vm>-disk; both are deleted with the VM, and DeleteInstance needs only
// the VM's name to find all three.
//
// Use:
//
//	cfg, err := azure.ConfigFromEnv(env)   // every bad key in one error
//	if err != nil { ... }                  // errors.Is(err, provider.ErrInvalidConfig)
//	p, err := azure.New(cfg, azure.Options{Logger: log})
//	if err := p.VerifyConfig(ctx); err != nil { ... }
//	inst, err := p.CreateInstance(ctx, spec)
//	...
//	err = p.DeleteInstance(ctx, provider.Instance{Name: spec.Name})
//
// Tests run it against package fakearm, an in-process fake of ARM.
package azure
