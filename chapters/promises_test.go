package chapters_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// promises lists what the seed promises but never shows (claim C46), each
// with the tests that now demonstrate it. Each test runs with the rest of
// the suite; this test makes sure none of them quietly disappears.
var promises = map[string][]string{
	"replay from a sequence or a time (C03)": {
		"TestC03_EachDeliverPolicyStartsWhereItSays", "TestC03_StartTimeIsAtOrAfter", "TestC28_LateSubscriberReplaysUnlessNew"},
	"durability across a restart (C14)": {
		"TestC14_FileStreamSurvivesARestartMemoryStreamDoesNot", "TestRestartKeepsAcknowledgedMessages"},
	"ordering and redelivery (C06)": {
		"TestC06_OnePublishersOrderIsTheStreamsOrder", "TestC06_RedeliveryChangesTheProcessingOrder", "TestC06_OrderedConsumerKeepsStreamOrder"},
	"interest and work-queue retention (C16, C17)": {
		"TestC16_NoConsumerNothingStored", "TestC16_EveryConsumerMustAck", "TestC17_RemovedOnAckNotOnDelivery", "TestC17_OneConsumerPerSubject"},
	"memory storage": {
		"TestC14_FileStreamSurvivesARestartMemoryStreamDoesNot", "TestC24_MaxBytesCountsRecordsNotPayload"},
	"limits taking effect (C15, C21-C24)": {
		"TestC15_DiscardOldRemovesTheOldest", "TestC15_DiscardNewRefusesThePublish", "TestC21_MaxAgeRemovesOldMessages", "TestC23_MaxMsgsKeepsTheNewestThousand", "TestC22_SeedMaxAgeIs285Years"},
	"the PubAck's contents and deduplication": {
		"TestC07_PubAckSaysWhereTheMessageIsStored", "TestC44_PublishWaitsForItsAckAndDedupesRetries", "TestC44_TheDuplicatesWindow"},
	"pull consumers": {
		"TestC27_EverySubscriberGetsEveryMessage", "TestC41_ManyWorkersOneConsumer"},
	"ack, nak and term": {
		"TestC31_EachMessageIsAckedOnce", "TestC35_AFailingReplierDoesNotLoopForever", "TestC35_APoisonMessageIsDeliveredMaxDeliverTimesThenNoMore", "TestOneFinalAnswerPerDelivery"},
	"data storage (데이터 저장 기능): key-value and object stores, and event sourcing's state (C10)": {
		"TestABucketIsAStream", "TestUpdateIsCompareAndSwap", "TestAnObjectIsChunksAndOneMetadataMessage", "TestC10_AProjectionFoldsEachEventOnce"},
}

// C46: every promise of the seed is now demonstrated by a named test, and
// every chapter's output is checked: an Example with // Output: in the
// chapter and a transcript under testdata/script.
func TestC46_EveryPromiseIsDemonstrated(t *testing.T) {
	funcs := map[string]bool{}
	examples := map[string]bool{} // chapter directories with a checked Example
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv != nil {
				continue
			}
			funcs[fn.Name.Name] = true
			if strings.HasPrefix(fn.Name.Name, "Example") && hasOutput(file, fn) {
				examples[filepath.Dir(path)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for promise, tests := range promises {
		for _, name := range tests {
			if !funcs[name] {
				t.Errorf("%s: the test %s is gone", promise, name)
			}
		}
	}

	chapters, err := filepath.Glob("[0-9][0-9]-*")
	if err != nil {
		t.Fatal(err)
	}
	if len(chapters) < 9 {
		t.Fatalf("found %d chapters, want 01 to 09", len(chapters))
	}
	for _, chapter := range chapters {
		if !examples[chapter] {
			t.Errorf("expected outputs: %s has no Example with an // Output: comment", chapter)
		}
		scripts, err := filepath.Glob(filepath.Join("..", "testdata", "script", chapter+"*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		checked := false
		for _, script := range scripts {
			data, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			checked = checked || strings.Contains(string(data), "\ncmp stdout ") || strings.Contains(string(data), "\ncmpenv stdout ")
		}
		if !checked {
			t.Errorf("expected outputs: no transcript compares the output of %s", chapter)
		}
	}
}

func hasOutput(file *ast.File, fn *ast.FuncDecl) bool {
	for _, c := range file.Comments {
		if c.Pos() > fn.Body.Lbrace && c.End() < fn.Body.Rbrace {
			text := strings.ToLower(c.Text())
			if strings.HasPrefix(text, "output:") || strings.HasPrefix(text, "unordered output:") {
				return true
			}
		}
	}
	return false
}
