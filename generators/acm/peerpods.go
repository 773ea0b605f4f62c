package acm

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/pkg/initdata"
	"github.com/cocogen/cocogen/pkg/manifest"
	"github.com/cocogen/cocogen/pkg/spec"
)

// Names of the peer-pods configuration the sandboxed containers operator
// reads.
const (
	PeerPodsConfigMap = "peer-pods-cm"
	PeerPodsSecret    = "peer-pods-secret"
)

// cloud describes what peer-pods-cm takes on one platform. Keys are those
// the pinned cloud-api-adaptor reads (openshift/cloud-api-adaptor
// osc-release, src/cloud-providers/<provider>/manager.go: the *WithEnv
// registrations).
type cloud struct {
	provider string
	// instanceSize and instanceSizes are the keys of the default VM size
	// and of the sizes pods may pick.
	instanceSize, instanceSizes string
	// preamble declares the template variables the values use.
	preamble []string
	// values are keys computed in-cluster (template expressions) or given
	// in the pattern.
	values map[string]string
	// discovered are keys read from the cluster's objects (a template
	// variable each) that may be missing there: then the key keeps the
	// value it has, or is left out for the adaptor to find itself.
	discovered map[string]string
	// preserved are keys written in-cluster by others (the pod VM image
	// build, an administrator) that the policy keeps when present instead of
	// removing them as mustonlyhave otherwise would.
	preserved []string
	// secret maps peer-pods-secret keys to keys of the cloud credentials
	// Secret.
	secret map[string]string
	// credentials is the cloud credentials Secret to copy; nil where the
	// sandboxed containers operator mints peer-pods-secret itself.
	credentials *spec.SecretRef
}

// workerMachineSet sets $worker to the provider spec of the first worker
// MachineSet (by name, as the API server lists them): the subnet and
// security groups the cluster's own workers launch into. The role label is
// on the machine template, not on the MachineSet.
var workerMachineSet = []string{
	`$worker := dict`,
	`range (lookup "machine.openshift.io/v1beta1" "MachineSet" "openshift-machine-api" "").items`,
	`if and (empty $worker) (eq "worker" (dig "spec" "template" "metadata" "labels" "machine.openshift.io/cluster-api-machine-role" "" .))`,
	`$worker = dig "spec" "template" "spec" "providerSpec" "value" (dict) .`,
	`end`,
	`end`,
}

func cloudOf(g *spec.ClusterGroup) cloud {
	pl := &g.Platform
	switch pl.Type {
	case spec.PlatformAzure:
		az := pl.Azure
		cc := az.CloudConfig
		c := cloud{
			provider:     "azure",
			instanceSize: "AZURE_INSTANCE_SIZE", instanceSizes: "AZURE_INSTANCE_SIZES",
			// cloud.conf is JSON on OpenShift on Azure, in both the cloud
			// controller manager's copy and openshift-config's.
			preamble: []string{
				fmt.Sprintf("$cloud := fromConfigMap %q %q %q | fromJson", cc.Namespace, cc.Name, cc.Key),
				// Clusters installed into an existing VNet keep it in a
				// resource group of its own; otherwise it is the cluster's.
				"$vnetGroup := $cloud.vnetResourceGroup | default $cloud.resourceGroup",
			},
			values: map[string]string{
				"AZURE_RESOURCE_GROUP": "{{ $cloud.resourceGroup }}",
				"AZURE_REGION":         "{{ $cloud.location }}",
				"AZURE_SUBNET_ID": "/subscriptions/{{ $cloud.subscriptionId }}/resourceGroups/{{ $vnetGroup }}" +
					"/providers/Microsoft.Network/virtualNetworks/{{ $cloud.vnetName }}/subnets/{{ $cloud.subnetName }}",
				"AZURE_NSG_ID": "/subscriptions/{{ $cloud.subscriptionId }}/resourceGroups/{{ $cloud.resourceGroup }}" +
					"/providers/Microsoft.Network/networkSecurityGroups/{{ $cloud.securityGroupName }}",
			},
			preserved: []string{"AZURE_IMAGE_ID"},
			secret: map[string]string{
				"AZURE_CLIENT_ID":       "azure_client_id",
				"AZURE_CLIENT_SECRET":   "azure_client_secret",
				"AZURE_TENANT_ID":       "azure_tenant_id",
				"AZURE_SUBSCRIPTION_ID": "azure_subscription_id",
			},
			credentials: az.Credentials,
		}
		if az.Region != "" {
			c.values["AZURE_REGION"] = az.Region
		}
		return c
	case spec.PlatformAWS:
		aws := pl.AWS
		c := cloud{
			provider:     "aws",
			instanceSize: "PODVM_INSTANCE_TYPE", instanceSizes: "PODVM_INSTANCE_TYPES",
			// The worker MachineSet names its subnet and security groups
			// by id or by filters (tags); only ids are usable here. With
			// filters the keys stay unset and the adaptor takes the
			// subnet and security groups of the worker it runs on from
			// instance metadata (src/cloud-providers/aws/imds.go): the
			// same network either way.
			preamble: append([]string{`$infra := lookup "config.openshift.io/v1" "Infrastructure" "" "cluster"`},
				append(workerMachineSet,
					`$subnet := dig "subnet" "id" "" $worker`,
					// All security groups or none: a list without the
					// filtered node group would cut pod VMs off the
					// workers.
					`$securityGroups := list`,
					`$allByID := true`,
					`range (dig "securityGroups" (list) $worker)`,
					`$id := dig "id" "" .`,
					`if $id`, `$securityGroups = append $securityGroups $id`, `else`, `$allByID = false`, `end`,
					`end`,
					`$securityGroupIDs := ternary (join "," $securityGroups) "" $allByID`,
				)...),
			values: map[string]string{
				"AWS_REGION": `{{ dig "status" "platformStatus" "aws" "region" "" $infra }}`,
			},
			discovered: map[string]string{
				"AWS_SUBNET_ID": "$subnet",
				"AWS_SG_IDS":    "$securityGroupIDs",
			},
			preserved: []string{"PODVM_AMI_ID"},
			secret: map[string]string{
				"AWS_ACCESS_KEY_ID":     "aws_access_key_id",
				"AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
			},
			credentials: aws.Credentials,
		}
		if aws.Region != "" {
			c.values["AWS_REGION"] = aws.Region
		}
		return c
	case spec.PlatformIBMCloud:
		ibm := pl.IBMCloud
		c := cloud{
			provider:     "ibmcloud",
			instanceSize: "IBMCLOUD_PODVM_INSTANCE_PROFILE_NAME", instanceSizes: "IBMCLOUD_PODVM_INSTANCE_PROFILE_LIST",
			// The region is the Infrastructure's location and the zone a
			// worker node's; the VPC, subnet, security groups and
			// resource group come from the pattern, since the cluster's
			// objects name them only by name (IBMCloudMachineProviderSpec).
			preamble: []string{
				`$infra := lookup "config.openshift.io/v1" "Infrastructure" "" "cluster"`,
				`$region := dig "status" "platformStatus" "ibmcloud" "location" "" $infra`,
				`$zone := ""`,
				`range (lookup "v1" "Node" "" "" "node-role.kubernetes.io/worker").items`,
				`if not $zone`, `$zone = dig "metadata" "labels" "topology.kubernetes.io/zone" "" .`, `end`,
				`end`,
			},
			values: map[string]string{
				"IBMCLOUD_VPC_ENDPOINT":      "https://{{ $region }}.iaas.cloud.ibm.com/v1",
				"IBMCLOUD_VPC_ID":            ibm.VPCID,
				"IBMCLOUD_VPC_SUBNET_ID":     ibm.SubnetID,
				"IBMCLOUD_RESOURCE_GROUP_ID": ibm.ResourceGroupID,
			},
			discovered:  map[string]string{"IBMCLOUD_ZONE": "$zone"},
			preserved:   []string{"IBMCLOUD_PODVM_IMAGE_ID", "IBMCLOUD_SSH_KEY_ID"},
			secret:      map[string]string{"IBMCLOUD_API_KEY": "ibmcloud_api_key"},
			credentials: ibm.Credentials,
		}
		if len(ibm.SecurityGroupIDs) > 0 {
			c.values["IBMCLOUD_SECURITY_GROUP_IDS"] = strings.Join(ibm.SecurityGroupIDs, ",")
		}
		if ibm.Region != "" {
			c.values["IBMCLOUD_VPC_ENDPOINT"] = "https://" + ibm.Region + ".iaas.cloud.ibm.com/v1"
		}
		if ibm.Zone != "" {
			c.values["IBMCLOUD_ZONE"] = ibm.Zone
			delete(c.discovered, "IBMCLOUD_ZONE")
		}
		return c
	}
	panic("acm: no peer pods on platform " + pl.Type)
}

// instanceSizes returns the platform's default size and offered sizes.
func instanceSizes(pl *spec.Platform) (string, []string, map[string]string) {
	switch pl.Type {
	case spec.PlatformAzure:
		return pl.Azure.DefaultInstanceSize, pl.Azure.InstanceSizes, pl.Azure.Tags
	case spec.PlatformAWS:
		return pl.AWS.DefaultInstanceSize, pl.AWS.InstanceSizes, pl.AWS.Tags
	default:
		return pl.IBMCloud.DefaultInstanceSize, pl.IBMCloud.InstanceSizes, pl.IBMCloud.Tags
	}
}

// peerPodsPolicy writes peer-pods-cm and peer-pods-secret on the group's
// clusters. deps are policies that must be compliant first (the init-data
// copy, whose ConfigMap peer-pods-cm reads).
func (b *builder) peerPodsPolicy(g group, deps []any) manifest.Object {
	name := b.p.PeerPodsPolicyName(g.ClusterGroup)
	c := cloudOf(g.ClusterGroup)
	cm := b.configurationPolicy(name+"-cm", map[string]any{
		"object-templates-raw": b.peerPodsConfigMapTemplate(g.ClusterGroup, c),
	})
	if c.credentials == nil {
		// The sandboxed containers operator mints peer-pods-secret.
		return b.policy(name, g.path+".platform", peerPodsCompliance, deps, cm)
	}
	secretData := map[string]any{}
	for key, from := range c.secret {
		secretData[key] = fmt.Sprintf("{{ fromSecret %q %q %q }}", c.credentials.Namespace, c.credentials.Name, from)
	}
	secret := b.configurationPolicy(name+"-secret", map[string]any{
		"object-templates": []any{map[string]any{
			"complianceType": "mustonlyhave",
			// Never record the secret's content in the policy status.
			"recordDiff": "None",
			"objectDefinition": map[string]any{
				"apiVersion": "v1",
				"kind":       "Secret",
				"metadata":   map[string]any{"name": PeerPodsSecret, "namespace": g.SandboxedContainersNamespace()},
				"type":       "Opaque",
				// fromSecret returns the credentials Secret's data as is
				// (base64), which is what data takes.
				"data": secretData,
			},
		}},
	})
	return b.policy(name, g.path+".platform", peerPodsCompliance, deps, cm, secret)
}

// peerPodsConfigMapTemplate is the object-templates-raw that builds
// peer-pods-cm on a managed cluster. It needs a template body rather than
// object-templates because keys are kept conditionally (see
// cloud.preserved). Values from the pattern are literals; values from the
// cluster are template expressions resolved there.
func (b *builder) peerPodsConfigMapTemplate(g *spec.ClusterGroup, c cloud) string {
	pl := &g.Platform
	pp := pl.PeerPods
	ns := g.SandboxedContainersNamespace()
	def, sizes, tags := instanceSizes(pl)

	literal := map[string]string{
		"CLOUD_PROVIDER":                    c.provider,
		c.instanceSize:                      def,
		c.instanceSizes:                     strings.Join(sizes, ","),
		b.p.Line().Cluster.PeerPodsLimitKey: strconv.Itoa(*pp.LimitPerNode),
		"PROXY_TIMEOUT":                     pp.ProxyTimeout,
		"VXLAN_PORT":                        strconv.Itoa(*pp.VXLANPort),
		"DISABLECVM":                        strconv.FormatBool(*pp.DisableCVM),
	}
	if pp.RootVolumeSize != nil {
		literal["ROOT_VOLUME_SIZE"] = strconv.Itoa(*pp.RootVolumeSize)
	}
	if len(tags) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			kv = append(kv, k+"="+tags[k])
		}
		literal["TAGS"] = strings.Join(kv, ",")
	}
	values := map[string]string{}
	for k, v := range literal {
		values[k] = v
	}
	for k, v := range c.values {
		values[k] = v
	}
	if prof := b.p.PeerPodsInitData(g); prof != nil {
		cmNS, cmName := b.initDataSource(g, prof)
		values[initdata.ConfigMapKey] = fmt.Sprintf("{{ fromConfigMap %q %q %q }}", cmNS, cmName, initdata.ConfigMapKey)
	}

	var t strings.Builder
	fmt.Fprintf(&t, "{{- /* %s of cluster group %s (%s), built on each cluster from its own configuration */ -}}\n", PeerPodsConfigMap, g.Name, c.provider)
	for _, line := range c.preamble {
		fmt.Fprintf(&t, "{{- %s }}\n", line)
	}
	fmt.Fprintf(&t, "{{- $current := lookup \"v1\" \"ConfigMap\" %q %q }}\n", ns, PeerPodsConfigMap)
	t.WriteString("- complianceType: mustonlyhave\n")
	t.WriteString("  objectDefinition:\n")
	t.WriteString("    apiVersion: v1\n")
	t.WriteString("    kind: ConfigMap\n")
	t.WriteString("    metadata:\n")
	fmt.Fprintf(&t, "      name: %s\n", PeerPodsConfigMap)
	fmt.Fprintf(&t, "      namespace: %s\n", ns)
	t.WriteString("    data:\n")
	for _, k := range slices.Sorted(maps.Keys(values)) {
		fmt.Fprintf(&t, "      %s: %s\n", k, yamlQuote(values[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(c.discovered)) {
		fmt.Fprintf(&t, "      {{- with %s | default (dig \"data\" %q \"\" $current) }}\n", c.discovered[k], k)
		fmt.Fprintf(&t, "      %s: '{{ . }}'\n", k)
		t.WriteString("      {{- end }}\n")
	}
	for _, k := range c.preserved {
		fmt.Fprintf(&t, "      {{- with dig \"data\" %q \"\" $current }}\n", k)
		fmt.Fprintf(&t, "      %s: '{{ . }}'\n", k)
		t.WriteString("      {{- end }}\n")
	}
	return t.String()
}

// yamlQuote makes a single-quoted YAML scalar, which keeps template
// expressions and values such as "false" or "10" strings.
func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
