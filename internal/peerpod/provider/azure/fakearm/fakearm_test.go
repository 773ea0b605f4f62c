package fakearm

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

const (
	sub      = "/subscriptions/00000000-0000-0000-0000-000000000001"
	subnetID = sub + "/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
	nicID    = sub + "/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/vm1-net"
	vmID     = sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
	q        = "?api-version=2024-11-01"
)

func do(t *testing.T, s *Server, method, path string, body any, auth bool) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth {
		req.Header.Set("Authorization", "Bearer "+Token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func nic() map[string]any {
	return map[string]any{
		"location": "eastus",
		"properties": map[string]any{"ipConfigurations": []any{map[string]any{
			"name": "ipconfig1", "properties": map[string]any{"subnet": map[string]any{"id": subnetID}},
		}}},
	}
}

func vm() map[string]any {
	return map[string]any{
		"location": "eastus",
		"properties": map[string]any{
			"hardwareProfile": map[string]any{"vmSize": "Standard_DC2as_v5"},
			"storageProfile": map[string]any{
				"imageReference": map[string]any{"communityGalleryImageId": "/CommunityGalleries/g/Images/i"},
				"osDisk": map[string]any{"createOption": "FromImage", "managedDisk": map[string]any{
					"securityProfile": map[string]any{"securityEncryptionType": "VMGuestStateOnly"}}},
			},
			"osProfile": map[string]any{"computerName": "vm1", "adminUsername": "peerpod", "linuxConfiguration": map[string]any{
				"disablePasswordAuthentication": true,
				"ssh":                           map[string]any{"publicKeys": []any{map[string]any{"path": "/home/peerpod/.ssh/authorized_keys", "keyData": "ssh-rsa AAAA"}}},
			}},
			"networkProfile":  map[string]any{"networkInterfaces": []any{map[string]any{"id": nicID}}},
			"securityProfile": map[string]any{"securityType": "ConfidentialVM", "uefiSettings": map[string]any{"vTpmEnabled": true}},
			"userData":        "I2Nsb3VkLWNvbmZpZw==",
		},
	}
}

func newServer(t *testing.T) *Server {
	s := New(Options{})
	t.Cleanup(s.Close)
	if err := s.AddSubnet(subnetID, "10.1.0.0/28"); err != nil {
		t.Fatal(err)
	}
	if code, body := do(t, s, "PUT", nicID+q, nic(), true); code != http.StatusCreated {
		t.Fatalf("NIC PUT: %d %s", code, body)
	}
	return s
}

func TestValidVMAccepted(t *testing.T) {
	s := newServer(t)
	if code, body := do(t, s, "PUT", vmID+q, vm(), true); code != http.StatusCreated {
		t.Fatalf("VM PUT: %d %s", code, body)
	}
}

func TestRequestsRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		edit       func(map[string]any)
		path, want string
		noAuth     bool
	}{
		"unknown field":       {edit: func(v map[string]any) { v["properties"].(map[string]any)["userdata"] = "eA==" }, want: "unknown fields: .properties.userdata"},
		"unknown nested":      {edit: func(v map[string]any) { prop(v, "securityProfile")["vtpm"] = true }, want: ".properties.securityProfile.vtpm"},
		"no api-version":      {path: vmID, want: "MissingApiVersionParameter"},
		"no token":            {noAuth: true, want: "AuthenticationFailed"},
		"no security profile": {edit: func(v map[string]any) { delete(v["properties"].(map[string]any), "securityProfile") }, want: "ConfidentialVM is required"},
		"no vTPM":             {edit: func(v map[string]any) { prop(v, "securityProfile")["uefiSettings"] = map[string]any{} }, want: "vTpmEnabled"},
		"no userData":         {edit: func(v map[string]any) { delete(v["properties"].(map[string]any), "userData") }, want: "userData is required"},
		"userData too big":    {edit: func(v map[string]any) { v["properties"].(map[string]any)["userData"] = strings.Repeat("A", 64*1024+4) }, want: "exceeds 64 KB"},
		"not a CVM size":      {edit: func(v map[string]any) { prop(v, "hardwareProfile")["vmSize"] = "Standard_D2s_v5" }, want: "not a confidential VM size"},
		"two images":          {edit: func(v map[string]any) { prop(v, "storageProfile")["imageReference"].(map[string]any)["id"] = vmID }, want: "exactly one"},
		"missing NIC": {edit: func(v map[string]any) {
			prop(v, "networkProfile")["networkInterfaces"] = []any{map[string]any{"id": nicID + "x"}}
		}, want: "not found"},
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t)
			body := vm()
			if tc.edit != nil {
				tc.edit(body)
			}
			path := tc.path
			if path == "" {
				path = vmID + q
			}
			code, got := do(t, s, "PUT", path, body, !tc.noAuth)
			if code < 400 || !strings.Contains(got, tc.want) {
				t.Errorf("%d %s, want an error with %q", code, got, tc.want)
			}
			if _, ok := s.VM(vmID); ok {
				t.Error("refused VM was stored")
			}
		})
	}
}

func prop(v map[string]any, name string) map[string]any {
	return v["properties"].(map[string]any)[name].(map[string]any)
}

func TestFaultsAndCounts(t *testing.T) {
	s := newServer(t)
	s.Inject(Fault{Method: "GET", PathContains: "NETWORKINTERFACES/vm1", Status: 429, RetryAfter: 3, Times: 2})
	for i, want := range []int{429, 429, 200} {
		if code, body := do(t, s, "GET", nicID+q, nil, true); code != want {
			t.Errorf("GET %d: %d %s, want %d", i, code, body, want)
		}
	}
	if got := s.Count("GET networkInterfaces"); got != 3 {
		t.Errorf("count = %d", got)
	}
	// A NIC in use cannot be deleted; once free it can, asynchronously.
	do(t, s, "PUT", vmID+q, vm(), true)
	if code, _ := do(t, s, "DELETE", nicID+q, nil, true); code != http.StatusBadRequest {
		t.Errorf("deleting a NIC in use: %d", code)
	}
}
