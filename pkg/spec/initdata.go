package spec

// InitData holds the init-data profiles that confidential applications refer
// to by name.
type InitData struct {
	Profiles []InitDataProfile `json:"profiles,omitempty"`
}

// InitDataProfile describes one init-data document: what the attestation
// agent (aa.toml), the confidential data hub (cdh.toml) and the kata agent
// policy (policy.rego) of a confidential pod are configured with.
type InitDataProfile struct {
	Name string `json:"name"`
}
