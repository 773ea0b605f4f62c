package kbsconfig

import (
	"bytes"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Marshal writes c as kbs-config.toml after the header comment lines:
// tables and keys in the order of the types above, top-level scalars
// before the first table, enums as the KBS spells them.
func Marshal(c *Config, header []string) ([]byte, error) {
	var buf bytes.Buffer
	for _, line := range header {
		buf.WriteString(strings.TrimRight("# "+line, " ") + "\n")
	}
	if len(header) > 0 {
		buf.WriteByte('\n')
	}
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(false)
	enc.SetArraysMultiline(false)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
