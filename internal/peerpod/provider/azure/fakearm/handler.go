package fakearm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v7"
)

// apiVersionRe is the shape of every ARM api-version.
var apiVersionRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)

// armError is ARM's error body.
type armError struct {
	status  int
	code    string
	message string
}

func (e *armError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, a ...any) *armError {
	return &armError{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

// reply is what a handler answers.
type reply struct {
	status int
	body   any
	header http.Header
}

// route is a parsed request path.
type route struct {
	kind string // the resource type's last segment
	// id is the resource ID the path names (without query), for resources;
	// for the operations and vmSizes endpoints it is the path.
	id       string
	location string // for vmSizes and operations
	opID     string
}

// parse maps a path onto the endpoints the fake serves.
func parse(path string) (route, bool) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	eq := strings.EqualFold
	switch {
	case len(seg) == 8 && eq(seg[0], "subscriptions") && eq(seg[2], "resourceGroups") && eq(seg[4], "providers"):
		t := seg[5] + "/" + seg[6]
		for _, known := range []string{"Microsoft.Network/networkInterfaces", "Microsoft.Compute/virtualMachines", "Microsoft.Compute/disks"} {
			if eq(t, known) {
				return route{kind: known[strings.Index(known, "/")+1:], id: path}, true
			}
		}
	case len(seg) == 10 && eq(seg[0], "subscriptions") && eq(seg[2], "resourceGroups") && eq(seg[4], "providers") &&
		eq(seg[5], "Microsoft.Network") && eq(seg[6], "virtualNetworks") && eq(seg[8], "subnets"):
		return route{kind: "subnets", id: path}, true
	case len(seg) == 7 && eq(seg[0], "subscriptions") && eq(seg[2], "providers") && eq(seg[3], "Microsoft.Compute") &&
		eq(seg[4], "locations") && eq(seg[6], "vmSizes"):
		return route{kind: "vmSizes", id: path, location: seg[5]}, true
	case len(seg) == 8 && eq(seg[0], "subscriptions") && eq(seg[2], "providers") && eq(seg[4], "locations") && eq(seg[6], "operations"):
		return route{kind: "operations", id: path, location: seg[5], opID: seg[7]}, true
	}
	return route{}, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rt, known := parse(r.URL.Path)
	kind := r.Method + " " + rt.kind
	if !known {
		kind = r.Method + " unknown"
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	s.mu.Lock()
	s.counts[kind]++
	rep := s.handle(r, rt, known, body)
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Kind: kind, Status: rep.status})
	s.mu.Unlock()

	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.Header().Set("x-ms-request-id", newID())
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if e, ok := rep.body.(*armError); ok {
		w.Header().Set("x-ms-error-code", e.code)
		rep.body = map[string]any{"error": map[string]string{"code": e.code, "message": e.message}}
	}
	b, err := json.Marshal(rep.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(b)
}

// fail turns an error into its reply.
func fail(e *armError) reply { return reply{status: e.status, body: e} }

// handle serves one request with s.mu held.
func (s *Server) handle(r *http.Request, rt route, known bool, body []byte) reply {
	asyncFail := ""
	if f := s.matchFault(r); f != nil {
		if !f.Async {
			code := f.Code
			if code == "" {
				code = defaultCode(f.Status)
			}
			rep := fail(errorf(f.Status, code, "fakearm: injected fault"))
			if f.RetryAfter > 0 {
				rep.header = http.Header{"Retry-After": {strconv.Itoa(f.RetryAfter)}}
			}
			return rep
		}
		asyncFail = f.Code
		if asyncFail == "" {
			asyncFail = "InternalExecutionError"
		}
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+Token {
		return fail(errorf(http.StatusUnauthorized, "AuthenticationFailed", "missing or wrong bearer token"))
	}
	if v := r.URL.Query().Get("api-version"); !apiVersionRe.MatchString(v) {
		return fail(errorf(http.StatusBadRequest, "MissingApiVersionParameter", "the api-version query parameter is missing or malformed: %q", v))
	}
	if !known {
		return fail(errorf(http.StatusNotFound, "InvalidResourceType", "fakearm does not serve %s %s", r.Method, r.URL.Path))
	}
	if r.Method == http.MethodPut {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			return fail(errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "content type %q is not application/json", ct))
		}
	}
	switch rt.kind + " " + r.Method {
	case "networkInterfaces PUT":
		return s.putNIC(r, rt.id, body, asyncFail)
	case "networkInterfaces GET":
		return s.get(s.nics[key(rt.id)], rt.id)
	case "networkInterfaces DELETE":
		return s.deleteNIC(r, rt.id, asyncFail)
	case "virtualMachines PUT":
		return s.putVM(r, rt.id, body, asyncFail)
	case "virtualMachines GET":
		vm, ok := s.vms[key(rt.id)]
		if !ok {
			return s.get(nil, rt.id)
		}
		var out armcompute.VirtualMachine
		clone(vm, &out)
		if !strings.EqualFold(r.URL.Query().Get("$expand"), "userData") {
			// ARM returns userData only when asked to.
			out.Properties.UserData = nil
		}
		return reply{status: http.StatusOK, body: &out}
	case "virtualMachines DELETE":
		return s.deleteVM(r, rt.id, asyncFail)
	case "disks GET":
		return s.get(s.disks[key(rt.id)], rt.id)
	case "disks DELETE":
		return s.deleteDisk(r, rt.id, asyncFail)
	case "subnets GET":
		sn, ok := s.subnets[key(rt.id)]
		if !ok {
			return fail(errorf(http.StatusNotFound, "NotFound", "subnet %s not found", rt.id))
		}
		name := sn.id[strings.LastIndex(sn.id, "/")+1:]
		return reply{status: http.StatusOK, body: &armnetwork.Subnet{
			ID: to.Ptr(sn.id), Name: to.Ptr(name), Type: to.Ptr("Microsoft.Network/virtualNetworks/subnets"),
			Properties: &armnetwork.SubnetPropertiesFormat{
				AddressPrefix:     to.Ptr(sn.prefix.String()),
				ProvisioningState: to.Ptr(armnetwork.ProvisioningStateSucceeded),
			},
		}}
	case "vmSizes GET":
		return reply{status: http.StatusOK, body: &armcompute.VirtualMachineSizeListResult{Value: s.opts.Sizes}}
	case "operations GET":
		return s.pollOp(rt.opID)
	}
	return fail(errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "fakearm does not serve %s on %s", r.Method, rt.kind))
}

// get answers a GET of a stored resource.
func (s *Server) get(res any, id string) reply {
	switch v := res.(type) {
	case *armnetwork.Interface:
		if v != nil {
			return reply{status: http.StatusOK, body: v}
		}
	case *armcompute.Disk:
		if v != nil {
			return reply{status: http.StatusOK, body: v}
		}
	}
	return fail(errorf(http.StatusNotFound, "ResourceNotFound", "the resource %s was not found", id))
}

// matchFault consumes one use of the first fault matching r.
func (s *Server) matchFault(r *http.Request) *Fault {
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.PathContains != "" && !strings.Contains(strings.ToLower(r.URL.Path), strings.ToLower(f.PathContains)) {
			continue
		}
		f.Times--
		if f.Times == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// defaultCode is a plausible ARM error code for a status.
func defaultCode(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusNotFound:
		return "ResourceNotFound"
	case http.StatusBadRequest:
		return "BadRequest"
	default:
		return "InternalServerError"
	}
}

// startOp registers a long-running operation and returns the headers
// pointing at it. finish runs once, under the lock, when the operation
// ends.
func (s *Server) startOp(r *http.Request, namespace, location, failCode string, finish func(failed bool)) http.Header {
	id := newID()
	polls := s.opts.PollsBeforeDone
	if polls < 0 {
		polls = 0
	}
	s.ops[id] = &operation{polls: polls, fail: failCode, finish: finish, status: "InProgress"}
	sub := strings.Split(strings.Trim(r.URL.Path, "/"), "/")[1]
	u := fmt.Sprintf("https://%s/subscriptions/%s/providers/%s/locations/%s/operations/%s?api-version=%s",
		r.Host, sub, namespace, location, id, r.URL.Query().Get("api-version"))
	return http.Header{"Azure-Asyncoperation": {u}, "Location": {u + "&monitor=true"}}
}

// pollOp answers the Azure-AsyncOperation URL.
func (s *Server) pollOp(id string) reply {
	op, ok := s.ops[id]
	if !ok {
		return fail(errorf(http.StatusNotFound, "NotFound", "operation %s not found", id))
	}
	if op.status == "InProgress" {
		if op.polls > 0 {
			op.polls--
			return reply{status: http.StatusOK, body: map[string]string{"name": id, "status": "InProgress"}}
		}
		failed := op.fail != ""
		op.finish(failed)
		op.status = "Succeeded"
		if failed {
			op.status = "Failed"
		}
	}
	body := map[string]any{"name": id, "status": op.status}
	if op.status == "Failed" {
		body["error"] = map[string]string{"code": op.fail, "message": "fakearm: injected asynchronous failure"}
	}
	return reply{status: http.StatusOK, body: body}
}

// resourceName is an ID's last segment.
func resourceName(id string) string { return id[strings.LastIndex(id, "/")+1:] }

// location reads a resource's location for its operations' URLs.
func location(loc *string) string {
	if loc == nil || *loc == "" {
		return "fake"
	}
	return strings.ToLower(strings.ReplaceAll(*loc, " ", ""))
}

func (s *Server) putNIC(r *http.Request, id string, body []byte, asyncFail string) reply {
	var nic armnetwork.Interface
	if e := decodeStrict(body, &nic); e != nil {
		return fail(e)
	}
	if e := s.validateNIC(id, &nic); e != nil {
		return fail(e)
	}
	old, exists := s.nics[key(id)]
	nic.ID, nic.Name = to.Ptr(id), to.Ptr(resourceName(id))
	nic.Type = to.Ptr("Microsoft.Network/networkInterfaces")
	nic.Etag = to.Ptr(`W/"` + newID() + `"`)
	for i, c := range nic.Properties.IPConfigurations {
		c.ID = to.Ptr(id + "/ipConfigurations/" + *c.Name)
		var prev *string
		if exists && i < len(old.Properties.IPConfigurations) && old.Properties.IPConfigurations[i].Properties != nil {
			prev = old.Properties.IPConfigurations[i].Properties.PrivateIPAddress
		}
		if prev == nil {
			addr, e := s.allocate(*c.Properties.Subnet.ID)
			if e != nil {
				return fail(e)
			}
			prev = to.Ptr(addr)
		}
		c.Properties.PrivateIPAddress = prev
		c.Properties.PrivateIPAddressVersion = to.Ptr(armnetwork.IPVersionIPv4)
		c.Properties.ProvisioningState = to.Ptr(armnetwork.ProvisioningStateSucceeded)
	}
	if exists {
		nic.Properties.VirtualMachine = old.Properties.VirtualMachine
	}
	nic.Properties.ProvisioningState = to.Ptr(armnetwork.ProvisioningStateSucceeded)
	nic.Properties.MacAddress = to.Ptr("00-0D-3A-" + strings.ToUpper(newID()[:2]) + "-00-01")
	s.nics[key(id)] = &nic
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	// A NIC is ready at once in real ARM too; the operation is there for
	// the SDK to find and for an injected asynchronous failure.
	if asyncFail != "" {
		nic.Properties.ProvisioningState = to.Ptr(armnetwork.ProvisioningStateUpdating)
	}
	h := s.startOp(r, "Microsoft.Network", location(nic.Location), asyncFail, func(failed bool) {
		if failed {
			nic.Properties.ProvisioningState = to.Ptr(armnetwork.ProvisioningStateFailed)
		} else {
			nic.Properties.ProvisioningState = to.Ptr(armnetwork.ProvisioningStateSucceeded)
		}
	})
	return reply{status: status, body: &nic, header: h}
}

// allocate hands out the subnet's next free address.
func (s *Server) allocate(subnetID string) (string, *armError) {
	sn, ok := s.subnets[key(subnetID)]
	if !ok {
		return "", errorf(http.StatusBadRequest, "InvalidResourceReference", "subnet %s referenced by the NIC was not found", subnetID)
	}
	a := sn.prefix.Addr()
	for range 4 {
		a = a.Next()
	}
	for ; sn.prefix.Contains(a) && sn.prefix.Contains(a.Next()); a = a.Next() {
		if !sn.used[a] {
			sn.used[a] = true
			return a.String(), nil
		}
	}
	return "", errorf(http.StatusBadRequest, "SubnetIsFull", "subnet %s has no free address", subnetID)
}

// release returns a NIC's addresses to their subnets.
func (s *Server) release(nic *armnetwork.Interface) {
	for _, c := range nic.Properties.IPConfigurations {
		if c.Properties == nil || c.Properties.Subnet == nil || c.Properties.PrivateIPAddress == nil {
			continue
		}
		if sn, ok := s.subnets[key(*c.Properties.Subnet.ID)]; ok {
			for a := range sn.used {
				if a.String() == *c.Properties.PrivateIPAddress {
					delete(sn.used, a)
				}
			}
		}
	}
}

func (s *Server) deleteNIC(r *http.Request, id, asyncFail string) reply {
	nic, ok := s.nics[key(id)]
	if !ok {
		return reply{status: http.StatusNoContent}
	}
	if nic.Properties.VirtualMachine != nil {
		return fail(errorf(http.StatusBadRequest, "InUseNetworkInterfaceCannotBeDeleted",
			"network interface %s is used by virtual machine %s", id, *nic.Properties.VirtualMachine.ID))
	}
	h := s.startOp(r, "Microsoft.Network", location(nic.Location), asyncFail, func(failed bool) {
		if !failed {
			s.release(nic)
			delete(s.nics, key(id))
		}
	})
	return reply{status: http.StatusAccepted, header: h}
}

func (s *Server) deleteDisk(r *http.Request, id, asyncFail string) reply {
	d, ok := s.disks[key(id)]
	if !ok {
		return reply{status: http.StatusNoContent}
	}
	if d.ManagedBy != nil {
		return fail(errorf(http.StatusConflict, "OperationNotAllowed", "disk %s is attached to VM %s", id, *d.ManagedBy))
	}
	h := s.startOp(r, "Microsoft.Compute", location(d.Location), asyncFail, func(failed bool) {
		if !failed {
			delete(s.disks, key(id))
		}
	})
	return reply{status: http.StatusAccepted, header: h}
}

func (s *Server) putVM(r *http.Request, id string, body []byte, asyncFail string) reply {
	var vm armcompute.VirtualMachine
	if e := decodeStrict(body, &vm); e != nil {
		return fail(e)
	}
	if e := s.validateVM(id, &vm); e != nil {
		return fail(e)
	}
	_, exists := s.vms[key(id)]
	vm.ID, vm.Name = to.Ptr(id), to.Ptr(resourceName(id))
	vm.Type = to.Ptr("Microsoft.Compute/virtualMachines")
	p := vm.Properties
	p.VMID = to.Ptr(newID())
	p.ProvisioningState = to.Ptr("Creating")
	osDisk := p.StorageProfile.OSDisk
	dname := resourceName(id) + "_OsDisk_1_" + newID()
	if osDisk.Name != nil {
		dname = *osDisk.Name
	}
	osDisk.Name = to.Ptr(dname)
	diskID := id[:strings.Index(strings.ToLower(id), "/providers/")] + "/providers/Microsoft.Compute/disks/" + dname
	osDisk.ManagedDisk.ID = to.Ptr(diskID)
	osDisk.OSType = to.Ptr(armcompute.OperatingSystemTypesLinux)
	for _, ref := range p.NetworkProfile.NetworkInterfaces {
		// ARM reserves the NIC for the VM as soon as it accepts it.
		s.nics[key(*ref.ID)].Properties.VirtualMachine = &armnetwork.SubResource{ID: to.Ptr(id)}
	}
	s.vms[key(id)] = &vm
	h := s.startOp(r, "Microsoft.Compute", location(vm.Location), asyncFail, func(failed bool) {
		// The disk exists either way: a VM failing late leaves it behind
		// for the VM's delete to clean up.
		size := int32(30)
		if osDisk.DiskSizeGB != nil {
			size = *osDisk.DiskSizeGB
		}
		s.disks[key(diskID)] = &armcompute.Disk{
			ID: to.Ptr(diskID), Name: to.Ptr(dname), Type: to.Ptr("Microsoft.Compute/disks"),
			Location: vm.Location, ManagedBy: to.Ptr(id),
			Properties: &armcompute.DiskProperties{DiskSizeGB: to.Ptr(size), DiskState: to.Ptr(armcompute.DiskStateAttached)},
		}
		if failed {
			p.ProvisioningState = to.Ptr("Failed")
		} else {
			p.ProvisioningState = to.Ptr("Succeeded")
		}
	})
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	var out armcompute.VirtualMachine
	clone(&vm, &out)
	return reply{status: status, body: &out, header: h}
}

func (s *Server) deleteVM(r *http.Request, id, asyncFail string) reply {
	vm, ok := s.vms[key(id)]
	if !ok {
		return reply{status: http.StatusNoContent}
	}
	vm.Properties.ProvisioningState = to.Ptr("Deleting")
	h := s.startOp(r, "Microsoft.Compute", location(vm.Location), asyncFail, func(failed bool) {
		if failed {
			vm.Properties.ProvisioningState = to.Ptr("Failed")
			return
		}
		delete(s.vms, key(id))
		// What was created with the VM goes with it when the VM says so,
		// and is detached otherwise.
		for _, ref := range vm.Properties.NetworkProfile.NetworkInterfaces {
			nic, ok := s.nics[key(*ref.ID)]
			if !ok {
				continue
			}
			nic.Properties.VirtualMachine = nil
			if ref.Properties != nil && ref.Properties.DeleteOption != nil && *ref.Properties.DeleteOption == armcompute.DeleteOptionsDelete {
				s.release(nic)
				delete(s.nics, key(*ref.ID))
			}
		}
		osDisk := vm.Properties.StorageProfile.OSDisk
		if d, ok := s.disks[key(*osDisk.ManagedDisk.ID)]; ok {
			d.ManagedBy = nil
			d.Properties.DiskState = to.Ptr(armcompute.DiskStateUnattached)
			if osDisk.DeleteOption != nil && *osDisk.DeleteOption == armcompute.DiskDeleteOptionTypesDelete {
				delete(s.disks, key(*osDisk.ManagedDisk.ID))
			}
		}
	})
	return reply{status: http.StatusAccepted, header: h}
}
