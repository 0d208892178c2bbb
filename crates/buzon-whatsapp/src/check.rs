//! Checking a pasted system-user token: `GET /{phone-number-id}` must answer for that
//! number ([Cloud API phone numbers](https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers), v21.0).

use crate::outbound::classify_error;
use crate::WhatsappConnector;
use buzon_connector::{meta_usage_wait, ConnectorError, RetryPolicy};
use buzon_core::{ChannelCredentials, ExternalId};
use serde::Deserialize;

#[derive(Deserialize)]
struct PhoneNumber {
    id: String,
    #[serde(default)]
    verified_name: Option<String>,
    #[serde(default)]
    display_phone_number: Option<String>,
}

impl WhatsappConnector {
    /// The number's verified name (and display number), if the token may read it.
    pub(crate) async fn check_number(
        &self,
        phone_number_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<String, ConnectorError> {
        let id = phone_number_id.as_str();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ConnectorError::Permanent(
                "a phone number id is made of digits".into(),
            ));
        }
        let url = format!("{}/{id}", self.settings.api_base.trim_end_matches('/'));
        let token = credentials.access_token.as_str();
        let timeout = self.settings.request_timeout;
        let number: PhoneNumber = self
            .client
            .execute(
                &format!("whatsapp:{id}"),
                RetryPolicy::READ,
                |client| {
                    let builder = client
                        .get(&url)
                        .query(&[("fields", "id,verified_name,display_phone_number")])
                        .bearer_auth(token);
                    if timeout.is_zero() {
                        builder
                    } else {
                        builder.timeout(timeout)
                    }
                },
                |response| meta_usage_wait(&response.headers),
                |response| {
                    if !(200..300).contains(&response.status) {
                        return Err(classify_error(&response));
                    }
                    serde_json::from_slice(&response.body).map_err(|_| {
                        ConnectorError::Payload("Graph answered with an unexpected body".into())
                    })
                },
            )
            .await?;
        if number.id != id {
            return Err(ConnectorError::Permanent(
                "the token answers for another phone number".into(),
            ));
        }
        Ok(match (number.verified_name, number.display_phone_number) {
            (Some(name), Some(phone)) => format!("{name} ({phone})"),
            (Some(name), None) => name,
            (None, Some(phone)) => phone,
            (None, None) => number.id,
        })
    }
}
