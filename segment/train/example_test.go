package train_test

import (
	"context"
	"fmt"
	"log"

	"github.com/signseg/signseg/segment/onnxgraph"
	"github.com/signseg/signseg/segment/train"
)

// Example shows a whole run: split by file, train with the paper's loss and
// Adam, score each epoch on the validation files, export the best model.
func Example() {
	var files []train.Sequence // features [D, T] and frame labels (0 sign, 1 boundary) per file
	const D = 225
	for i := range 4 {
		T := 300
		s := train.Sequence{Name: fmt.Sprint("file", i), Features: make([]float32, D*T), Labels: make([]int32, T)}
		for t := 20; t < T; t += 25 {
			s.Labels[t] = 1
			s.Features[t] = 1 // feature 0 marks boundaries
		}
		files = append(files, s)
	}
	trainIdx, valIdx, err := train.Split(len(files), 0.25, 1)
	if err != nil {
		log.Fatal(err)
	}
	var trainSeqs, valSeqs []train.Sequence
	var labels [][]int32
	for _, i := range trainIdx {
		trainSeqs = append(trainSeqs, files[i])
		labels = append(labels, files[i].Labels)
	}
	for _, i := range valIdx {
		valSeqs = append(valSeqs, files[i])
	}
	cfg := train.DefaultConfig(D)
	cfg.Stages, cfg.Layers, cfg.Channels = 2, 4, 16 // small, for the example
	m, err := train.NewModel(cfg, 1)
	if err != nil {
		log.Fatal(err)
	}
	opts := train.Options{
		Epochs: 3, Patience: 10, LearningRate: 5e-4, Seed: 1, Batch: 8,
		Loss: train.DefaultLoss(train.ClassWeights(labels, cfg.Classes)),
		Validate: func(ctx context.Context, m *train.Model) (float64, string, error) {
			// The CLI scores mF1B here (segment/eval) on the thresholded
			// boundary probabilities; frame accuracy keeps the example short.
			ok, n := 0, 0
			for _, s := range valSeqs {
				T := len(s.Labels)
				p, err := m.Predict(s.Features, T)
				if err != nil {
					return 0, "", err
				}
				for t := range T {
					if (p[T+t] > 0.5) == (s.Labels[t] == 1) {
						ok++
					}
					n++
				}
			}
			acc := 100 * float64(ok) / float64(n)
			return acc, fmt.Sprintf("acc %.2f", acc), nil
		},
		OnEpoch: func(r train.EpochReport) {
			fmt.Printf("epoch %d loss %.4f %s\n", r.Epoch, r.Loss, r.Summary)
		},
	}
	res, err := train.Fit(context.Background(), m, train.Sequences(trainSeqs), opts)
	if err != nil {
		log.Fatal(err) // on Ctrl-C (ctx cancelled), res.Best still holds the best model
	}
	model, err := onnxgraph.BuildMSTCN(res.Best.Export(), onnxgraph.MSTCNOptions{BoundaryClass: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Stop, res.BestEpoch, len(model) > 0)
}
