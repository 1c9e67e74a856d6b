// A shortapi.ai client in Go with net/http: one video, one image and one song, each
// created, polled and downloaded. It knows nothing of shortapi-mock; to run it offline:
//
//	go build -o shortapi-go ./examples/clients/go_nethttp
//	shortapi-mock run --speed 20 -- ./shortapi-go
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const api = "https://api.shortapi.ai/api/v1"

type job struct {
	model string
	args  map[string]any
	kind  string
}

var jobs = []job{
	{"kwaivgi/kling-o1/image-to-video", map[string]any{"mode": "std", "action": "frame",
		"prompt": "a cat walks", "duration": "5",
		"images": []string{"https://example.com/start.jpg"}}, "videos"},
	{"google/nano-banana/text-to-image", map[string]any{"prompt": "a red fox",
		"aspect_ratio": "1:1"}, "images"},
	{"suno/suno-v5/generate", map[string]any{"mode": "description",
		"gpt_description_prompt": "a jingle"}, "musics"},
}

type answer struct {
	Code int `json:"code"`
	Data struct {
		JobID  string                         `json:"job_id"`
		Status int                            `json:"status"`
		Result map[string][]map[string]string `json:"result"`
	} `json:"data"`
}

func call(method, url string, body any) (answer, error) {
	var out answer
	var reader io.Reader
	if body != nil {
		encoded, _ := json.Marshal(body)
		reader = bytes.NewReader(encoded)
	}
	req, _ := http.NewRequest(method, url, reader)
	key := os.Getenv("SHORTAPI_KEY")
	if key == "" {
		key = "ak-0123456789abcdef0123456789abcdef"
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(resp.Body)
		return out, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, text)
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

func looksLike(kind string, data []byte) bool {
	switch kind {
	case "videos":
		return len(data) > 8 && string(data[4:8]) == "ftyp"
	case "images":
		return bytes.HasPrefix(data, []byte("\x89PNG")) || bytes.HasPrefix(data, []byte("\xff\xd8\xff"))
	}
	return bytes.HasPrefix(data, []byte("RIFF")) || bytes.HasPrefix(data, []byte("ID3"))
}

func run() error {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		created, err := call("POST", api+"/job/create", map[string]any{"model": j.model, "args": j.args})
		if err != nil {
			return err
		}
		ids[i] = created.Data.JobID
	}
	for i, j := range jobs {
		var polled answer
		for {
			var err error
			if polled, err = call("GET", api+"/job/query?id="+ids[i], nil); err != nil {
				return err
			}
			if polled.Data.Status >= 2 {
				break
			}
			time.Sleep(time.Second)
		}
		if polled.Data.Status != 2 {
			return fmt.Errorf("job %s failed: status %d", ids[i], polled.Data.Status)
		}
		url := polled.Data.Result[j.kind][0]["url"]
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if !looksLike(j.kind, data) {
			return fmt.Errorf("%s: not a %s file", url, j.kind)
		}
		fmt.Printf("%s: %s (%d bytes)\n", j.kind, url, len(data))
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
