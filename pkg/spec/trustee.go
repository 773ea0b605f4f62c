package spec

// Trustee configures the Key Broker Service (KBS) that attests confidential
// pods and releases secrets to them. It runs on the group with role hub, or
// outside the pattern when URL is set and no group is a hub.
type Trustee struct {
	// Namespace the Trustee operator's KbsConfig and its ConfigMaps live in.
	Namespace string `json:"namespace,omitempty"`
	// URL is how confidential pods reach the KBS (e.g. the hub's route,
	// https://kbs-trustee-operator-system.apps.hub.example.com). Init-data
	// profiles default their KBS URL to it.
	URL string `json:"url,omitempty"`
	// Certificate is the PEM certificate (public) the KBS serves HTTPS with,
	// pinned in init-data so pods trust only this KBS.
	Certificate string `json:"certificate,omitempty"`
}
