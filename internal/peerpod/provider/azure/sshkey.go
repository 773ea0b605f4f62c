package azure

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/big"
	"sync"
)

// Azure refuses a Linux VM without either a password or an SSH key, and
// peerpodd wants neither: nobody logs into a pod VM. So the VM gets the
// public half of a key whose private half is dropped on the spot, the same
// approach as CAA v0.22.0 (src/cloud-providers/azure/provider.go,
// generateSSHPublicKey), except that one key serves the whole process:
// with no private key anywhere a fresh key per VM buys nothing and costs
// a slow RSA key generation per pod.
var throwaway = sync.OnceValues(func() (string, error) {
	// RSA because every Azure region takes it; 3072 bits clears Azure's
	// 2048-bit minimum with margin.
	k, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return "", fmt.Errorf("generating throwaway ssh key: %w", err)
	}
	return authorizedKey(&k.PublicKey), nil
})

// authorizedKey renders an RSA public key as an authorized_keys line: the
// SSH wire encoding (RFC 4253 section 6.6) of "ssh-rsa", e and n, base64
// encoded after the type name.
func authorizedKey(pub *rsa.PublicKey) string {
	var b []byte
	str := func(s []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	mpint := func(n *big.Int) {
		v := n.Bytes()
		if len(v) > 0 && v[0]&0x80 != 0 {
			// A set top bit would read as negative.
			v = append([]byte{0}, v...)
		}
		str(v)
	}
	str([]byte("ssh-rsa"))
	mpint(big.NewInt(int64(pub.E)))
	mpint(pub.N)
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(b) + " peerpodd-throwaway"
}
