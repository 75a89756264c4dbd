//go:build tools

// Pins Pulumi's YAML language host (package main of pulumi-yaml) so go.mod and go.sum hold everything its
// build needs. It is built with the Pulumi versions pulumi-yaml itself requires: its code follows their API.
package tools

import _ "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml"
