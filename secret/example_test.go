package secret_test

import (
	"fmt"
	"log"
	"os"

	"github.com/switchyard/switchyard/secret"
)

func Example() {
	dataDir, err := os.MkdirTemp("", "switchyard-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dataDir)

	// At start: the master key from SWITCHYARD_MASTER_KEY (here unset) or
	// from <data dir>/master.key, generated on first start.
	mk, generated, err := secret.LoadMasterKey("", dataDir)
	if err != nil {
		log.Fatal(err)
	}
	if generated {
		fmt.Println("generated master.key: back it up")
	}

	// First start: make a data key; the database stores id and wrapped.
	id, wrapped, err := mk.NewDataKey()
	if err != nil {
		log.Fatal(err)
	}

	// Every start: load the stored data keys into a keyring.
	kr := secret.NewKeyring(mk)
	if err := kr.Add(id, wrapped); err != nil {
		log.Fatal(err)
	}
	if err := kr.SetActive(id); err != nil {
		log.Fatal(err)
	}

	// Encrypt a field bound to its row; decrypt with the same binding.
	stored, err := kr.Encrypt([]byte("sk-example"), "credentials/c1/api_key")
	if err != nil {
		log.Fatal(err)
	}
	plaintext, err := kr.Decrypt(stored, "credentials/c1/api_key")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(plaintext))

	// The same value does not decrypt for another row.
	_, err = kr.Decrypt(stored, "credentials/c2/api_key")
	fmt.Println(err != nil)
	// Output:
	// generated master.key: back it up
	// sk-example
	// true
}
