// Evaluates a workflow template (text with ${{ }} expressions) with GitHub Actions' expression language, as act
// 0.2.89 evaluates it (github.com/nektos/act/pkg/exprparser), for the parts of a workflow act never evaluates when
// it runs one: job-level concurrency groups. Reads {"template", "github", "inputs", "needs", "vars"} as JSON on
// stdin; prints the result.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/nektos/act/pkg/exprparser"
	"github.com/nektos/act/pkg/model"
)

type request struct {
	Template string                      `json:"template"`
	Github   model.GithubContext         `json:"github"`
	Inputs   map[string]interface{}      `json:"inputs"`
	Needs    map[string]exprparser.Needs `json:"needs"`
	Vars     map[string]string           `json:"vars"`
	Matrix   map[string]interface{}      `json:"matrix"`
}

var expression = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "reading the request:", err)
		os.Exit(2)
	}
	env := &exprparser.EvaluationEnvironment{
		Github: &req.Github,
		Inputs: req.Inputs,
		Needs:  req.Needs,
		Vars:   req.Vars,
		Matrix: req.Matrix,
		Env:    map[string]string{},
	}
	interpreter := exprparser.NewInterpeter(env, exprparser.Config{})
	var failed error
	out := expression.ReplaceAllStringFunc(req.Template, func(match string) string {
		inner := strings.TrimSpace(expression.FindStringSubmatch(match)[1])
		value, err := interpreter.Evaluate(inner, exprparser.DefaultStatusCheckNone)
		if err != nil {
			failed = err
			return ""
		}
		if value == nil {
			return ""
		}
		return fmt.Sprint(value)
	})
	if failed != nil {
		fmt.Fprintln(os.Stderr, failed)
		os.Exit(1)
	}
	fmt.Print(out)
}
