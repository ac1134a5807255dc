// Package depspin keeps modules in go.mod until real code imports them (temporary).
package depspin

import (
	_ "github.com/FerretDB/FerretDB/ferretdb"
	_ "github.com/chromedp/chromedp"
	_ "github.com/go-playground/locales/en"
	_ "github.com/go-playground/locales/vi"
	_ "github.com/go-playground/universal-translator"
	_ "github.com/go-playground/validator/v10"
	_ "github.com/go-playground/validator/v10/translations/en"
	_ "github.com/go-playground/validator/v10/translations/vi"
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/gofiber/fiber/v2/middleware/csrf"
	_ "github.com/gofiber/fiber/v2/middleware/session"
	_ "github.com/google/uuid"
	_ "github.com/minio/minio-go/v7"
	_ "github.com/nicksnyder/go-i18n/v2/i18n"
	_ "github.com/versity/versitygw/embedgw"
	_ "go.mongodb.org/mongo-driver/v2/mongo"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/text/language"
	_ "modernc.org/sqlite"
)
