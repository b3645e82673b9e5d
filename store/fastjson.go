package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
)

// Widgets are encoded on every edit (the stored record, the public JSON
// that the event and the response share). Their props are generic
// map[string]any values, which encoding/json encodes by reflection and
// sorts through a slice of reflect values; appendJSON does the same job for
// the types JSON decoding produces and hands anything else to
// encoding/json, producing exactly the bytes json.Marshal would.

// marshalJSON is json.Marshal(v) for a value made of maps, slices, strings,
// float64s, bools and nils, and falls back to json.Marshal otherwise.
func marshalJSON(v any) ([]byte, error) {
	return appendJSON(make([]byte, 0, 512), v)
}

func appendJSON(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendJSONString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case float64:
		return appendJSONFloat(dst, x)
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		var arr [32]string
		keys := arr[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSON(dst, x[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

var errBadFloat = errors.New("json: unsupported value: NaN or infinite number")

// appendJSONFloat encodes f as encoding/json encodes a float64.
func appendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, errBadFloat
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

// appendJSONString appends s as encoding/json encodes it.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// marshalWidget is json.Marshal(w), the stored record, with the props map
// encoded by appendJSON: w is encoded without props, and the props are put
// where encoding/json wrote "props":null (the first such bytes: a string
// value cannot hold them unescaped).
func marshalWidget(w *Widget) ([]byte, error) {
	if w.Props == nil {
		return json.Marshal(w)
	}
	bare := *w
	bare.Props = nil
	rec, err := json.Marshal(&bare)
	if err != nil {
		return nil, err
	}
	const hole = `"props":null`
	i := bytes.Index(rec, []byte(hole))
	if i < 0 {
		return json.Marshal(w)
	}
	out := make([]byte, 0, len(rec)+512)
	out = append(out, rec[:i+len(hole)-len("null")]...)
	if out, err = appendJSON(out, w.Props); err != nil {
		return nil, err
	}
	return append(out, rec[i+len(hole):]...), nil
}

// marshalPublic is json.Marshal(w.Public()) without building that map: the
// props' keys and Public's own (id, widget_type, state, digitized, version)
// are merged in sorted order, Public's values winning as they do there.
func marshalPublic(w *Widget) ([]byte, error) {
	var arr [40]string
	keys := arr[:0]
	for k := range w.Props {
		switch k {
		case "id", "widget_type", "digitized", "version":
			continue // Public sets these itself (or drops digitized/version below)
		}
		keys = append(keys, k)
	}
	keys = append(keys, "id", "widget_type")
	_, hasState := w.Props["state"]
	if !hasState {
		keys = append(keys, "state")
	}
	digitized, hasDig := w.Props["digitized"]
	if len(w.Digitized) > 0 {
		digitized, hasDig = w.Digitized, true
	}
	if hasDig {
		keys = append(keys, "digitized")
	}
	version, hasVer := w.Props["version"]
	if len(w.Versions) > 0 {
		version, hasVer = w.Versions[len(w.Versions)-1].Version, true
	}
	if hasVer {
		keys = append(keys, "version")
	}
	slices.Sort(keys)
	dst := make([]byte, 0, 512)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var v any
		switch k {
		case "id":
			v = w.ID
		case "widget_type":
			v = w.Type
		case "digitized":
			v = digitized
		case "version":
			v = version
		case "state":
			if hasState {
				v = w.Props[k]
			} else {
				v = "normal"
			}
		default:
			v = w.Props[k]
		}
		var err error
		if dst, err = appendJSON(dst, v); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}
