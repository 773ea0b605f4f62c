package policies

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The agent of the kata 4 line evaluates policies with regorus 0.9, whose
// lexer refuses a line over 1024 columns (regorus 0.9.1 src/lexer.rs
// MAX_COL; also MAX_LINES 20,000 and MAX_FILE_BYTES 1 MiB). policy_data
// is indented JSON, one value per line, so only a long string (an
// environment value, an exec argument) can exceed it: such a string is
// written as concat("", [pieces]), one piece per line, which every engine
// evaluates to the same string. PolicyData joins them back.

// maxPolicyColumns is regorus 0.9's line limit.
const maxPolicyColumns = 1024

// pieceBytes bounds a piece before quoting, which at most doubles it.
const pieceBytes = 480

const concatOpen = `concat("", [`

// splitLongStrings rewrites the long string values of indented JSON.
func splitLongStrings(text string) (string, error) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if len(strings.TrimSuffix(line, "\n")) <= maxPolicyColumns {
			b.WriteString(line)
			continue
		}
		start, end, ok := lastJSONString(line)
		if !ok || start > maxPolicyColumns/2 {
			return "", fmt.Errorf("policies: a policy_data line of %d bytes cannot be split: %.80s...", len(line), line)
		}
		var value string
		if err := json.Unmarshal([]byte(line[start:end]), &value); err != nil {
			return "", fmt.Errorf("policies: splitting a policy_data line: %w", err)
		}
		indent := line[:len(line)-len(strings.TrimLeft(line, " "))]
		b.WriteString(line[:start])
		writeConcat(&b, indent+"  ", indent, pieces(value, pieceBytes))
		b.WriteString(line[end:])
	}
	return b.String(), nil
}

// writeConcat writes concat("", [parts]) with one quoted part per line
// at partIndent and the closing "])" at closeIndent.
func writeConcat(b *strings.Builder, partIndent, closeIndent string, parts []string) {
	b.WriteString(concatOpen + "\n")
	for _, part := range parts {
		b.WriteString(partIndent + quoteJSON(part) + ",\n")
	}
	b.WriteString(closeIndent + "])")
}

// joinLongStrings undoes writeConcat, giving JSON strings again.
func joinLongStrings(text string) (string, error) {
	if !strings.Contains(text, concatOpen) {
		return text, nil
	}
	var b strings.Builder
	lines := strings.SplitAfter(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasSuffix(line, concatOpen+"\n") {
			b.WriteString(line)
			continue
		}
		var value strings.Builder
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimLeft(lines[i], " "), "])"); i++ {
			var piece string
			if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimSpace(lines[i]), ",")), &piece); err != nil {
				return "", fmt.Errorf("policy_data: a split string: %w", err)
			}
			value.WriteString(piece)
		}
		if i == len(lines) {
			return "", fmt.Errorf("policy_data: a split string is not closed")
		}
		b.WriteString(strings.TrimSuffix(line, concatOpen+"\n") + quoteJSON(value.String()) + strings.TrimPrefix(strings.TrimLeft(lines[i], " "), "])"))
	}
	return b.String(), nil
}

// lastJSONString finds the last string token of a line of JSON.
func lastJSONString(line string) (start, end int, ok bool) {
	for i := 0; i < len(line); i++ {
		if line[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(line) && line[j] != '"' {
			if line[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(line) {
			return 0, 0, false
		}
		start, end, ok = i, j+1, true
		i = j
	}
	return start, end, ok
}

func quoteJSON(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}
